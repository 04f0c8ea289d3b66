using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace Parley.Torture;

/// <summary>
/// Runs the host's network tools (<c>ip</c>, <c>nft</c>, <c>tc</c>) for netns mode: arguments as a list (no shell),
/// optional standard input (nftables scripts), bounded in time. Every command and its outcome can be written to a log
/// (a run folder's <c>network.log</c>), so a failing run shows exactly what the network looked like.
/// </summary>
internal static class HostCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>Runs a command; throws <see cref="NetnsException"/> when it cannot start, times out or exits non-zero.</summary>
    public static string Run(TextWriter? log, string file, IEnumerable<string> arguments, string? input = null)
    {
        var (exitCode, output, error) = TryRun(log, file, arguments, input);
        if (exitCode != 0)
        {
            throw new NetnsException($"{Describe(file, arguments)} failed (exit {exitCode}): {error.Trim()}");
        }
        return output;
    }

    /// <summary>Runs a command and returns its exit code and output (-1 when it cannot start or times out).</summary>
    public static (int ExitCode, string Output, string Error) TryRun(TextWriter? log, string file, IEnumerable<string> arguments, string? input = null)
    {
        var list = arguments.ToList();
        var start = new ProcessStartInfo(file)
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null,
        };
        foreach (var argument in list)
        {
            start.ArgumentList.Add(argument);
        }
        (int, string, string) result;
        try
        {
            using var process = Process.Start(start) ?? throw new NetnsException($"could not start {file}");
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (input is not null)
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
            }
            if (!process.WaitForExit(Timeout))
            {
                process.Kill();
                process.WaitForExit(TimeSpan.FromSeconds(5));
                result = (-1, "", $"{file} did not finish within {Timeout.TotalSeconds:F0} s");
            }
            else
            {
                result = (process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
            }
        }
        catch (Win32Exception exception)
        {
            result = (-1, "", $"{file}: {exception.Message}");
        }
        if (log is not null)
        {
            lock (log)
            {
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"$ {Describe(file, list)}{(result.Item1 == 0 ? "" : $"  -> exit {result.Item1}: {result.Item3.Trim()}")}"));
                if (input is not null)
                {
                    log.Write(input);
                }
                log.Flush();
            }
        }
        return result;
    }

    private static string Describe(string file, IEnumerable<string> arguments) =>
        string.Join(" ", arguments.Prepend(file).Select(argument => argument.Length == 0 || argument.Contains(' ', StringComparison.Ordinal) ? $"'{argument}'" : argument));
}
