using System.Diagnostics;

namespace Parley.Server.Tests;

/// <summary>Runs the real etcdctl (API v3) with a bounded timeout and returns its exit code and output.</summary>
public static class Etcdctl
{
    public static string? Path { get; } = Find();

    public static (int ExitCode, string Output, string Error) Run(string endpoints, string arguments, string? input = null, int timeoutSeconds = 20)
    {
        var start = new ProcessStartInfo(Path!)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null, UseShellExecute = false,
        };
        start.Environment["ETCDCTL_API"] = "3";
        start.ArgumentList.Add("--endpoints=" + endpoints);
        start.ArgumentList.Add("--command-timeout=10s");
        // With --user, etcdctl authenticates while it dials (one bcrypt check per endpoint it tries). On a loaded
        // 2-core CI machine each took 0.7 s, and the default 2 s dial timeout ran out on the third endpoint, so a
        // wrong password came back as "context deadline exceeded" instead of the authentication error.
        start.ArgumentList.Add("--dial-timeout=10s");
        foreach (var argument in Split(arguments))
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            process.Kill();
            throw new TimeoutException($"etcdctl {arguments} did not finish in {timeoutSeconds} s");
        }
        return (process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }

    /// <summary>Splits on spaces, keeping "double quoted" parts together (quotes removed).</summary>
    private static List<string> Split(string arguments)
    {
        var parts = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        var any = false;
        foreach (var c in arguments)
        {
            if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (c == ' ' && !quoted)
            {
                if (any || current.Length > 0)
                {
                    parts.Add(current.ToString());
                }
                current.Clear();
                any = false;
            }
            else
            {
                current.Append(c);
            }
        }
        if (any || current.Length > 0)
        {
            parts.Add(current.ToString());
        }
        return parts;
    }

    private static string? Find()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(directory, "etcdctl");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
