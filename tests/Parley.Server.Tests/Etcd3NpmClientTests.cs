using System.Diagnostics;

namespace Parley.Server.Tests;

/// <summary>
/// The npm client etcd3 (version pinned in npm/package.json and npm/package-lock.json) runs npm/compat.js against a
/// real 3-member cluster of `parley serve` processes. `npm ci` runs once per checkout (node_modules is reused while
/// package-lock.json is unchanged). Skipped, saying so, only when node or npm is not installed.
/// </summary>
[Collection(ClientLibrariesCollection.Name)]
public sealed class Etcd3NpmClientTests(ClusterFixture fixture)
{
    private readonly LocalCluster _cluster = fixture.Cluster;

    [NodeFact]
    public void Etcd3_PutGetDeletePrefixTxnStm_MemberList_Status_AgainstEveryMember()
    {
        var folder = NpmFolder();
        NodeTools.InstallOnce(folder);
        var (exitCode, output, error) = NodeTools.Run("node", folder, TimeSpan.FromSeconds(90), ["compat.js", .. _cluster.Endpoints.Split(',')]);
        Assert.True(exitCode == 0, $"node compat.js failed ({exitCode}):\n{output}\n{error}\nmember 0 log tail:\n{Tail(_cluster.Log(0))}");
        Assert.StartsWith("OK etcd3 1.1.2 against ", output, StringComparison.Ordinal);
    }

    internal static string Tail(string log) => log.Length <= 4000 ? log : log[^4000..];

    /// <summary>tests/Parley.Server.Tests/npm in the source tree (the lock file and script live there, not in bin/), found upwards from bin/.</summary>
    internal static string NpmFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "tests", "Parley.Server.Tests", "npm");
            if (File.Exists(Path.Combine(candidate, "package-lock.json")))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException($"tests/Parley.Server.Tests/npm not found above {AppContext.BaseDirectory}");
    }
}

/// <summary>A test that needs Node.js and npm on PATH; skipped, saying so, only when they are absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NodeFactAttribute : FactAttribute
{
    public NodeFactAttribute()
    {
        if (NodeTools.Find("node") is null || NodeTools.Find("npm") is null)
        {
            Skip = "Node.js and npm are not installed (apt-get install -y nodejs npm); the etcd3 npm client test needs them";
        }
    }
}

internal static class NodeTools
{
    private static readonly Lock InstallLock = new();

    public static string? Find(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, tool))
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// `npm ci` unless node_modules already matches package-lock.json (npm writes node_modules/.package-lock.json;
    /// a copy of the lock file's text next to it marks a finished install).
    /// </summary>
    public static void InstallOnce(string folder)
    {
        lock (InstallLock)
        {
            var lockFile = File.ReadAllText(Path.Combine(folder, "package-lock.json"));
            var marker = Path.Combine(folder, "node_modules", ".parley-installed-lock.json");
            if (File.Exists(marker) && File.ReadAllText(marker) == lockFile)
            {
                return;
            }
            // --ignore-scripts: nothing in the tree needs an install script (protobufjs' postinstall only prints a hint).
            var (exitCode, output, error) = Run("npm", folder, TimeSpan.FromSeconds(180), ["ci", "--ignore-scripts", "--no-audit", "--no-fund"]);
            Assert.True(exitCode == 0, $"npm ci in {folder} failed ({exitCode}):\n{output}\n{error}");
            File.WriteAllText(marker, lockFile);
        }
    }

    public static (int ExitCode, string Output, string Error) Run(string tool, string folder, TimeSpan timeout, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Find(tool)!)
        {
            WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["NO_UPDATE_NOTIFIER"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', arguments)} did not finish in {timeout.TotalSeconds} s");
        }
        return (process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }
}
