using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Parley.Bench.Comparison;

/// <summary>
/// One server process of a bench cluster. Output goes to a log file through <c>sh -c 'exec …'</c>, so the process
/// id is the server's own (for /proc figures) and this process spends nothing forwarding logs.
/// </summary>
public sealed class MemberProcess : IDisposable
{
    private const int SignalTerminate = 15;

    private readonly ServerCommand _command;
    private readonly IReadOnlyList<string> _arguments;
    private Process? _process;

    public MemberProcess(string name, string clientEndpoint, string logPath, ServerCommand command, IReadOnlyList<string> arguments)
    {
        Name = name;
        ClientEndpoint = clientEndpoint;
        LogPath = logPath;
        _command = command;
        _arguments = arguments;
    }

    public string Name { get; }

    /// <summary>host:port of the member's client URL.</summary>
    public string ClientEndpoint { get; }

    public string LogPath { get; }

    public int? Pid => _process is { HasExited: false } process ? process.Id : null;

    public bool IsRunning => _process is { HasExited: false };

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int KillNative(int pid, int signal);

    public void Start()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"{Name} is already running");
        }
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$PARLEY_BENCH_LOG\" 2>&1 </dev/null");
        start.ArgumentList.Add(_command.FileName);
        foreach (var argument in _command.LeadingArguments.Concat(_arguments))
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["PARLEY_BENCH_LOG"] = LogPath;
        _process?.Dispose();
        _process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Name} ({_command.FileName})");
    }

    /// <summary>SIGTERM, then SIGKILL if it has not exited within <paramref name="grace"/>. Safe to call twice.</summary>
    public void Stop(TimeSpan grace)
    {
        var process = _process;
        if (process is null)
        {
            return;
        }
        try
        {
            if (!process.HasExited)
            {
                _ = KillNative(process.Id, SignalTerminate);
                if (!process.WaitForExit(grace))
                {
                    process.Kill();
                    process.WaitForExit(TimeSpan.FromSeconds(10));
                }
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    public string LogTail(int lines)
    {
        try
        {
            var all = File.ReadAllLines(LogPath);
            return string.Join(Environment.NewLine, all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException exception)
        {
            return $"(no log: {exception.Message})";
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} ({ClientEndpoint}, pid {Pid})");

    public void Dispose()
    {
        Stop(TimeSpan.FromSeconds(10));
        _process?.Dispose();
        _process = null;
    }
}
