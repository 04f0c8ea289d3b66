using System.Diagnostics;
using System.Text;

namespace Parley.Bench.Tests;

/// <summary>Runs <c>parley bench …</c> from this build as a child process (bounded in time) and captures its output.</summary>
internal static class BenchCli
{
    public static (int ExitCode, string Output) Run(TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "parley.dll"));
        start.ArgumentList.Add("bench");
        foreach (var argument in args)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, line) => { lock (output) { output.AppendLine(line.Data); } };
        process.ErrorDataReceived += (_, line) => { lock (output) { output.AppendLine(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            // SIGTERM first: the bench stops its servers on it
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit(TimeSpan.FromSeconds(5));
            }
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill(entireProcessTree: true);
            }
            throw new TimeoutException($"parley bench {string.Join(" ", args)} did not finish within {timeout.TotalSeconds} s; output:\n{output}");
        }
        process.WaitForExit();
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }
}
