using System.Diagnostics;
using System.Text;

namespace Parley.Server.Tests;

/// <summary>A long-running etcdctl (e.g. <c>watch</c>) whose output is collected as it comes; killed on dispose.</summary>
public sealed class EtcdctlProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    public EtcdctlProcess(string endpoints, params string[] arguments)
    {
        var start = new ProcessStartInfo(Etcdctl.Path!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["ETCDCTL_API"] = "3";
        start.ArgumentList.Add("--endpoints=" + endpoints);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, line) => Append(_output, line.Data);
        _process.ErrorDataReceived += (_, line) => Append(_error, line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Waits (bounded) until the output satisfies the condition; fails with everything seen otherwise.</summary>
    public void WaitForOutput(Func<string, bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition(Output))
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"etcdctl output not as expected after {timeout.TotalSeconds} s ({what}).\nstdout:\n{Output}\nstderr:\n{Error}");
            }
            Thread.Sleep(50);
        }
    }

    /// <summary>Waits (bounded) for the process to exit on its own and returns its exit code.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            throw new TimeoutException($"etcdctl did not exit within {timeout.TotalSeconds} s.\nstdout:\n{Output}\nstderr:\n{Error}");
        }
        _process.WaitForExit(); // drains the asynchronous output readers
        return _process.ExitCode;
    }

    /// <summary>Sends SIGINT, as Ctrl-C would: etcdctl lock/elect then unlock or resign before exiting.</summary>
    public void Interrupt()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            kill.WaitForExit(TimeSpan.FromSeconds(5));
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        _process.Dispose();
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (builder)
        {
            builder.Append(line).Append('\n');
        }
    }
}
