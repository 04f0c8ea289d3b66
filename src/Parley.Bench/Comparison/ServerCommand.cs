using System.Reflection;

namespace Parley.Bench.Comparison;

/// <summary>How to start a server binary: the file to execute and the arguments that come before the server's own.</summary>
public sealed record ServerCommand(string FileName, IReadOnlyList<string> LeadingArguments)
{
    public const string EtcdDefaultPath = "/usr/bin/etcd";

    public static ServerCommand Etcd(string? path) => new(path ?? EtcdDefaultPath, []);

    /// <summary>
    /// The Parley to start: <paramref name="path"/> (a parley.dll, run by dotnet, or an executable) if given; else
    /// this very build: the running parley (launcher or dll), or parley.dll next to the bench assembly.
    /// </summary>
    public static ServerCommand Parley(string? path)
    {
        if (path is not null)
        {
            return FromPath(Path.GetFullPath(path));
        }
        var entry = Assembly.GetEntryAssembly();
        if (entry?.GetName().Name == "parley" && Environment.ProcessPath is { } host)
        {
            return Path.GetFileNameWithoutExtension(host) == "dotnet" ? new ServerCommand(host, [entry.Location]) : new ServerCommand(host, []);
        }
        var sibling = Path.Combine(AppContext.BaseDirectory, "parley.dll");
        if (File.Exists(sibling))
        {
            return FromPath(sibling);
        }
        throw new BenchOptionsException("cannot find the parley build to start: pass --parley PATH (parley.dll or an executable)");
    }

    private static ServerCommand FromPath(string path)
    {
        if (!File.Exists(path))
        {
            throw new BenchOptionsException($"--parley {path}: no such file");
        }
        return path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? new ServerCommand("dotnet", [path]) : new ServerCommand(path, []);
    }
}
