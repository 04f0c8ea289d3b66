using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace Parley.Server.Tests;

/// <summary>
/// One real etcd 3.4 member (Debian package etcd-server) on free 127.0.0.1 ports in a temporary data directory, the
/// reference the differential tests compare Parley against. Its lifetime is bounded twice: Dispose kills it, and it
/// runs under coreutils <c>timeout</c> so that even a crashed test host cannot leave it behind for long.
/// </summary>
public sealed class EtcdServer : IDisposable
{
    private static readonly TimeSpan LifetimeMax = TimeSpan.FromMinutes(15);

    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly string _root;

    public EtcdServer(params string[] extraArguments)
    {
        _root = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "parley-etcd-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_root);
        var ports = LocalPorts.Free(2);
        ClientUrl = $"http://127.0.0.1:{ports[0]}";
        var peerUrl = $"http://127.0.0.1:{ports[1]}";
        var start = new ProcessStartInfo("timeout") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            "-s", "KILL", ((int)LifetimeMax.TotalSeconds).ToString(CultureInfo.InvariantCulture), BinaryPath!,
            "--name", "reference", "--data-dir", System.IO.Path.Combine(_root, "data"),
            "--listen-client-urls", ClientUrl, "--advertise-client-urls", ClientUrl,
            "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl,
            "--initial-cluster", "reference=" + peerUrl, "--initial-cluster-token", "parley-reference",
            "--log-level", "error", "--logger", "zap",
        }.Concat(extraArguments))
        {
            start.ArgumentList.Add(argument);
        }
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, line) => Append(line.Data);
        _process.ErrorDataReceived += (_, line) => Append(line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        try
        {
            LocalCluster.WaitUntil(IsHealthy, TimeSpan.FromSeconds(30), "etcd healthy");
        }
        catch (TimeoutException exception)
        {
            Dispose();
            throw new TimeoutException(exception.Message + "; etcd log:\n" + Log, exception);
        }
    }

    /// <summary>The etcd binary: /usr/bin/etcd or the first on PATH; null when etcd-server is not installed.</summary>
    public static string? BinaryPath { get; } = Find();

    public string ClientUrl { get; }

    public bool HasExited => _process.HasExited;

    public string Endpoint => ClientUrl["http://".Length..];

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // leave it for the OS temp cleaner
        }
    }

    private bool IsHealthy()
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException("etcd exited with code " + _process.ExitCode + ":\n" + Log);
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = http.GetAsync(new Uri(ClientUrl + "/health")).GetAwaiter().GetResult();
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        lock (_log)
        {
            if (_log.Length < 1_000_000)
            {
                _log.AppendLine(line);
            }
        }
    }

    private static string? Find()
    {
        if (File.Exists("/usr/bin/etcd"))
        {
            return "/usr/bin/etcd";
        }
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = System.IO.Path.Combine(directory, "etcd");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
