using System.Diagnostics;
using System.Net;
using System.Text;

namespace Parley.Server.Tests;

/// <summary>
/// A real cluster of <c>parley serve</c> processes on 127.0.0.1 with free ports, each in its own data directory
/// under a temporary folder. Members can be killed (SIGKILL) and restarted; disposing stops them all.
/// </summary>
public sealed class LocalCluster : IDisposable
{
    private readonly Process?[] _members;
    private readonly StringBuilder[] _logs;
    private readonly string _root;
    private readonly string[] _extraArguments;
    private readonly int _initialSize;

    /// <param name="size">members</param>
    /// <param name="extraArguments">more `parley serve` flags given to every member (e.g. --quota-backend-bytes)</param>
    public LocalCluster(int size, params string[] extraArguments)
        : this(size, 0, beforeStart: null, extraArguments)
    {
    }

    /// <param name="size">members</param>
    /// <param name="beforeStart">runs once names, ports and data directories are chosen, before any member starts
    /// (e.g. to restore the members' data directories from a snapshot)</param>
    /// <param name="extraArguments">more `parley serve` flags given to every member</param>
    public LocalCluster(int size, Action<LocalCluster>? beforeStart, params string[] extraArguments)
        : this(size, 0, beforeStart, extraArguments)
    {
    }

    /// <param name="size">members of the initial cluster, started at once</param>
    /// <param name="spares">more member slots (names, ports, data directories) for members that join later</param>
    /// <param name="beforeStart">runs once names, ports and data directories are chosen, before any member starts</param>
    /// <param name="extraArguments">more `parley serve` flags given to every member</param>
    public LocalCluster(int size, int spares, Action<LocalCluster>? beforeStart, string[] extraArguments)
    {
        _extraArguments = extraArguments;
        _initialSize = size;
        _root = Path.Combine(Path.GetTempPath(), "parley-test-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_root);
        var slots = size + spares;
        var ports = LocalPorts.Free(slots * 2);
        ClientUrls = Enumerable.Range(0, slots).Select(i => $"http://127.0.0.1:{ports[i]}").ToArray();
        PeerUrls = Enumerable.Range(0, slots).Select(i => $"http://127.0.0.1:{ports[slots + i]}").ToArray();
        Names = Enumerable.Range(1, slots).Select(i => $"m{i}").ToArray();
        _members = new Process?[slots];
        _logs = Enumerable.Range(0, slots).Select(_ => new StringBuilder()).ToArray();
        beforeStart?.Invoke(this);
        try
        {
            for (var i = 0; i < size; i++)
            {
                Start(i);
            }
            WaitUntil(() =>
            {
                for (var member = 0; member < size; member++)
                {
                    if (ExitCode(member) is not null)
                    {
                        throw new StartFailedException($"{Names[member]} exited before every member was ready");
                    }
                }
                return Enumerable.Range(0, size).All(IsReady);
            }, TimeSpan.FromSeconds(60), "every member ready");
        }
        catch (Exception failure) when (failure is TimeoutException or StartFailedException)
        {
            // A constructor that throws is never disposed: stop the members here (they would run on through the rest
            // of the test run), and say what each one did, since CI shows nothing else.
            var states = Enumerable.Range(0, size).Select(Describe).ToList();
            Dispose();
            throw new StartFailedException($"{failure.Message}\n{string.Join("\n", states)}", failure);
        }
    }

    /// <summary>One member's state for a failure message: running and ready or not, or its exit code; its log's last lines.</summary>
    private string Describe(int member)
    {
        const int LogLines = 40;
        var state = ExitCode(member) is { } code ? $"exited with code {code}" : IsReady(member) ? "running, ready" : "running, not ready";
        var lines = Log(member).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return $"--- {Names[member]} ({state}); the last {Math.Min(LogLines, lines.Length)} of {lines.Length} log lines:\n" +
            string.Join("\n", lines.TakeLast(LogLines));
    }

    public const string ClusterToken = "parley-test";

    public string[] Names { get; }

    /// <summary>The --initial-cluster every member is started with.</summary>
    public string InitialCluster => string.Join(",", Names.Take(_initialSize).Select((name, i) => $"{name}={PeerUrls[i]}"));

    public string[] ClientUrls { get; }

    public string[] PeerUrls { get; }

    /// <summary>http://host:port list for etcdctl --endpoints, the form etcd's documentation uses.</summary>
    public string UrlEndpoints => string.Join(",", ClientUrls);

    /// <summary>host:port list for etcdctl --endpoints.</summary>
    public string Endpoints => string.Join(",", ClientUrls.Select(url => url["http://".Length..]));

    public string DataDirectory(int member) => Path.Combine(_root, Names[member]);

    public string Endpoint(int member) => ClientUrls[member]["http://".Length..];

    public void Start(int member) => Start(member, InitialCluster, "new");

    /// <summary>Starts a spare member that joins the running cluster (--initial-cluster-state existing).</summary>
    public void StartJoining(int member, IEnumerable<int> clusterMembers) =>
        Start(member, string.Join(",", clusterMembers.Append(member).Distinct().Select(i => $"{Names[i]}={PeerUrls[i]}")), "existing");

    /// <summary>Starts a member slot as a member of a new cluster with another membership (hence another cluster id).</summary>
    public void StartInOtherCluster(int member, string initialCluster) => Start(member, initialCluster, "new");

    /// <summary>The member's process has ended on its own (its exit code), or null while it runs.</summary>
    public int? ExitCode(int member)
    {
        if (_members[member] is not { HasExited: true } process)
        {
            return null;
        }
        // HasExited says nothing of the redirected output: its last lines may still be on their way to the log. The
        // wait without a timeout returns once both streams reached their end (a log read after this is complete).
        process.WaitForExit();
        return process.ExitCode;
    }

    private void Start(int member, string initialCluster, string state)
    {
        var parley = Path.Combine(AppContext.BaseDirectory, "parley.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            parley, "serve", "--name", Names[member], "--data-dir", Path.Combine(_root, Names[member]),
            "--listen-client-urls", ClientUrls[member], "--listen-peer-urls", PeerUrls[member],
            "--initial-cluster", initialCluster, "--initial-cluster-state", state,
            "--initial-cluster-token", ClusterToken,
        }.Concat(_extraArguments))
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start)!;
        var log = _logs[member];
        process.OutputDataReceived += (_, line) => { lock (log) { log.AppendLine(line.Data); } };
        process.ErrorDataReceived += (_, line) => { lock (log) { log.AppendLine(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _members[member] = process;
    }

    public void Kill(int member)
    {
        var process = _members[member];
        if (process is { HasExited: false })
        {
            process.Kill();
            process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        _members[member] = null;
    }

    public bool IsReady(int member) => Get(member, "/readyz").Status == HttpStatusCode.OK;

    public int? Leader()
    {
        for (var i = 0; i < _members.Length; i++)
        {
            if (_members[i] is not null && Get(i, "/metrics").Body.Contains("\netcd_server_is_leader 1\n", StringComparison.Ordinal))
            {
                return i;
            }
        }
        return null;
    }

    public (HttpStatusCode Status, string Body) Get(int member, string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = http.GetAsync(new Uri(ClientUrls[member] + path)).GetAwaiter().GetResult();
            return (response.StatusCode, response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return (0, exception.Message);
        }
    }

    public string Log(int member)
    {
        lock (_logs[member])
        {
            return _logs[member].ToString();
        }
    }

    public static void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"not true after {timeout.TotalSeconds} s: {what}");
            }
            Thread.Sleep(100);
        }
    }

    /// <summary>Waits until the member's process has exited; on timeout the message carries the member's log (why it
    /// did not stop is in there, and CI shows nothing else).</summary>
    public void WaitUntilStopped(int member, TimeSpan timeout, string what)
    {
        try
        {
            WaitUntil(() => ExitCode(member) is not null, timeout, what);
        }
        catch (TimeoutException timedOut)
        {
            throw new TimeoutException($"{timedOut.Message}; {Names[member]}'s log:\n{Log(member)}", timedOut);
        }
    }

    public void Dispose()
    {
        foreach (var process in _members)
        {
            if (process is { HasExited: false })
            {
                using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                kill.WaitForExit(TimeSpan.FromSeconds(5));
            }
        }
        foreach (var process in _members)
        {
            if (process is not null && !process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill();
            }
            process?.Dispose();
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // leave it for the OS temp cleaner
        }
    }

    /// <summary>The cluster did not come up: a member exited, or not every member was ready in time.</summary>
    public sealed class StartFailedException(string message, Exception? inner = null) : Exception(message, inner);
}
