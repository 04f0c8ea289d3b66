using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Parley.Torture;

/// <summary>
/// A real cluster of <c>parley serve</c> processes on 127.0.0.1 (free ports, data under the run folder), each
/// behind a <see cref="PeerProxy"/>: a member listens for peers on its own port but advertises the proxy's, so every
/// Raft message between members passes through <see cref="Faults"/>. Members can be killed (SIGKILL), restarted,
/// paused (SIGSTOP) and resumed (SIGCONT). Each member's output is appended to <c>members/NAME.log</c>.
/// </summary>
public sealed class TortureCluster : IAsyncDisposable
{
    private readonly Process?[] _processes;
    private readonly bool[] _paused;
    private readonly int[] _starts;
    private readonly int[] _listenPeerPorts;
    private readonly int[] _proxyPorts;
    private readonly PeerProxy[] _proxies;
    private readonly GrpcChannel[] _adminChannels;
    private readonly TortureClusterOptions _options;
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();

    public TortureCluster(TortureClusterOptions options)
    {
        _options = options;
        var size = options.Size;
        Names = Enumerable.Range(1, size).Select(i => "m" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var ports = FreePorts(size * 3);
        ClientUrls = Enumerable.Range(0, size).Select(i => $"http://127.0.0.1:{ports[i]}").ToArray();
        _listenPeerPorts = ports[size..(2 * size)];
        _proxyPorts = ports[(2 * size)..];
        _processes = new Process?[size];
        _paused = new bool[size];
        _starts = new int[size];
        Faults = new LinkFaults(options.Seed);
        _proxies = Enumerable.Range(0, size).Select(i => new PeerProxy(i, _proxyPorts[i], _listenPeerPorts[i], Names, Faults)).ToArray();
        _adminChannels = ClientUrls.Select(url => GrpcChannel.ForAddress(url)).ToArray();
        Directory.CreateDirectory(MembersDirectory);
    }

    public int Size => _options.Size;

    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<string> ClientUrls { get; }

    public LinkFaults Faults { get; }

    public string MembersDirectory => Path.Combine(_options.Folder, "members");

    public string LogPath(int member) => Path.Combine(MembersDirectory, Names[member] + ".log");

    /// <summary>Starts the proxies and every member, and waits until each says it is ready.</summary>
    public async Task StartAsync(CancellationToken cancellation)
    {
        foreach (var proxy in _proxies)
        {
            proxy.Start();
        }
        for (var member = 0; member < Size; member++)
        {
            Start(member);
        }
        await WaitUntilAsync(async () => (await Task.WhenAll(Enumerable.Range(0, Size).Select(IsReadyAsync)).ConfigureAwait(false)).All(ready => ready),
            TimeSpan.FromSeconds(90), "every member ready", cancellation).ConfigureAwait(false);
    }

    public bool IsRunning(int member) => _processes[member] is { HasExited: false };

    public bool IsPaused(int member) => _paused[member];

    private readonly List<string> _unexpectedExits = [];

    /// <summary>Members that exited without being killed (crashed: a fatal error or failed assertion), with exit codes.</summary>
    public IReadOnlyList<string> FindUnexpectedExits()
    {
        var exits = new List<string>(_unexpectedExits);
        for (var member = 0; member < Size; member++)
        {
            if (_processes[member] is { HasExited: true } exited)
            {
                exits.Add(string.Create(CultureInfo.InvariantCulture, $"{Names[member]} exited by itself with code {exited.ExitCode} (see {LogPath(member)})"));
            }
        }
        return exits;
    }

    public void Start(int member)
    {
        if (IsRunning(member))
        {
            return;
        }
        if (_processes[member] is { HasExited: true } exited)
        {
            _unexpectedExits.Add(string.Create(CultureInfo.InvariantCulture, $"{Names[member]} exited by itself with code {exited.ExitCode} (see {LogPath(member)})"));
        }
        _processes[member]?.Dispose();
        _starts[member]++;
        File.AppendAllText(LogPath(member), string.Create(CultureInfo.InvariantCulture,
            $"=== torture: start #{_starts[member]} of {Names[member]} at +{Stopwatch.GetElapsedTime(_startTimestamp).TotalMilliseconds:F0} ms ===\n"));
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // exec: the shell becomes the member, so the process id is the member's (for SIGKILL/SIGSTOP).
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$PARLEY_TORTURE_LOG\" 2>&1 </dev/null");
        start.Environment["PARLEY_TORTURE_LOG"] = LogPath(member);
        start.ArgumentList.Add(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet");
        var cluster = string.Join(",", Names.Select((name, i) => $"{name}=http://127.0.0.1:{_proxyPorts[i]}"));
        foreach (var argument in new[]
        {
            _options.ParleyPath, "serve", "--name", Names[member], "--data-dir", Path.Combine(_options.Folder, "data", Names[member]),
            "--listen-client-urls", ClientUrls[member],
            "--listen-peer-urls", $"http://127.0.0.1:{_listenPeerPorts[member]}",
            "--initial-advertise-peer-urls", $"http://127.0.0.1:{_proxyPorts[member]}",
            "--initial-cluster", cluster, "--initial-cluster-token", "torture-" + _options.Seed.ToString(CultureInfo.InvariantCulture),
            "--heartbeat-interval", _options.HeartbeatIntervalMs.ToString(CultureInfo.InvariantCulture),
            "--election-timeout", _options.ElectionTimeoutMs.ToString(CultureInfo.InvariantCulture),
            "--snapshot-count", _options.SnapshotCount.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }
        if (_options.InjectBug is { } bug)
        {
            start.ArgumentList.Add("--unsafe-inject-bug");
            start.ArgumentList.Add(bug);
        }
        _processes[member] = Process.Start(start) ?? throw new InvalidOperationException("could not start " + Names[member]);
        _paused[member] = false;
    }

    /// <summary>SIGKILL: no shutdown, no flush; whatever was not fsynced is the kernel's (page cache survives a process kill).</summary>
    public void Kill(int member)
    {
        if (_processes[member] is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(TimeSpan.FromSeconds(10));
            }
            process.Dispose();
        }
        _processes[member] = null;
        _paused[member] = false;
    }

    public void Pause(int member)
    {
        if (_processes[member] is { HasExited: false } process && !_paused[member])
        {
            NativeSignals.Send(process.Id, NativeSignals.Stop);
            _paused[member] = true;
        }
    }

    public void Resume(int member)
    {
        if (_processes[member] is { HasExited: false } process && _paused[member])
        {
            NativeSignals.Send(process.Id, NativeSignals.Continue);
        }
        _paused[member] = false;
    }

    public async Task<bool> IsReadyAsync(int member)
    {
        if (!IsRunning(member) || _paused[member])
        {
            return false;
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await http.GetAsync(new Uri(ClientUrls[member] + "/readyz")).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    public async Task<StatusResponse?> StatusAsync(int member)
    {
        if (!IsRunning(member) || _paused[member])
        {
            return null;
        }
        try
        {
            return await new Maintenance.MaintenanceClient(_adminChannels[member])
                .StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(2)).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>The member that a running member names as leader, if any (by index).</summary>
    public async Task<int?> LeaderAsync()
    {
        var statuses = await Task.WhenAll(Enumerable.Range(0, Size).Select(StatusAsync)).ConfigureAwait(false);
        var leaderId = statuses.Where(status => status is { Leader: not 0 }).Select(status => status!.Leader)
            .GroupBy(id => id).OrderByDescending(group => group.Count()).Select(group => (ulong?)group.Key).FirstOrDefault();
        for (var member = 0; member < Size; member++)
        {
            if (leaderId is not null && statuses[member]?.Header.MemberId == leaderId)
            {
                return member;
            }
        }
        return null;
    }

    public async Task<HashKVResponse> HashKVAsync(int member, long revision) =>
        await new Maintenance.MaintenanceClient(_adminChannels[member])
            .HashKVAsync(new HashKVRequest { Revision = revision }, deadline: DateTime.UtcNow.AddSeconds(5)).ConfigureAwait(false);

    /// <summary>A linearizable read of the whole keyspace at a revision (0 = newest), with a deadline.</summary>
    public async Task<RangeResponse> RangeAllAsync(int member, long revision, bool serializable = false) =>
        await new KV.KVClient(_adminChannels[member]).RangeAsync(new RangeRequest
        {
            Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0), Revision = revision, Serializable = serializable,
        }, deadline: DateTime.UtcNow.AddSeconds(5)).ConfigureAwait(false);

    /// <summary>Resumes paused members, restarts stopped ones, heals the network.</summary>
    public void HealAll()
    {
        Faults.HealAll();
        for (var member = 0; member < Size; member++)
        {
            Resume(member);
            if (!IsRunning(member))
            {
                Start(member);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (var member = 0; member < Size; member++)
        {
            Resume(member);
            if (_processes[member] is { HasExited: false } process)
            {
                try
                {
                    NativeSignals.Send(process.Id, 15); // SIGTERM: a clean stop
                }
                catch (IOException)
                {
                    // already gone
                }
            }
        }
        for (var member = 0; member < Size; member++)
        {
            if (_processes[member] is { } process)
            {
                if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    process.Kill();
                    process.WaitForExit(TimeSpan.FromSeconds(5));
                }
                process.Dispose();
                _processes[member] = null;
            }
        }
        foreach (var proxy in _proxies)
        {
            await proxy.DisposeAsync().ConfigureAwait(false);
        }
        foreach (var channel in _adminChannels)
        {
            channel.Dispose();
        }
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, CancellationToken cancellation)
    {
        var started = Stopwatch.GetTimestamp();
        while (!await condition().ConfigureAwait(false))
        {
            if (Stopwatch.GetElapsedTime(started) > timeout)
            {
                throw new TimeoutException($"not true after {timeout.TotalSeconds:F0} s: {what}");
            }
            await Task.Delay(200, cancellation).ConfigureAwait(false);
        }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(listener => listener.Start());
        var ports = listeners.Select(listener => ((IPEndPoint)listener.LocalEndpoint).Port).ToArray();
        listeners.ForEach(listener => listener.Stop());
        return ports;
    }
}
