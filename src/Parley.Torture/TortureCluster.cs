using System.Diagnostics;
using System.Globalization;
using System.Net;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Parley.Server;

namespace Parley.Torture;

/// <summary>
/// A real cluster of <c>parley serve</c> processes (data under the run folder) whose network faults are made real
/// in one of two ways. Proxy mode: members on 127.0.0.1 (free ports), each behind a <see cref="PeerProxy"/>: a member
/// listens for peers on its own port but advertises the proxy's, so every Raft message between members passes
/// through <see cref="Faults"/>. Netns mode: each member in its own network namespace (<see cref="NetnsNetwork"/>),
/// started with <c>ip netns exec</c> and listening on its namespace address (ports 2379 and 2380); the faults become
/// nftables rules on the bridge between them. Members can be killed (SIGKILL), restarted, paused (SIGSTOP) and
/// resumed (SIGCONT): <c>ip netns exec</c> execs, so the process id is the member's. Each member's output is appended
/// to <c>members/NAME.log</c>.
/// Members are numbered slots (m1 is slot 0): a member added while the cluster runs gets a new slot (new name, ports
/// and data directory) and a removed member's slot stays, marked removed, so that indices never change meaning.
/// </summary>
public sealed class TortureCluster : IAsyncDisposable
{
    private readonly List<MemberSlot> _slots = [];
    private readonly Lock _gate = new();
    private readonly TortureClusterOptions _options;
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();
    private readonly List<string> _unexpectedExits = [];
    private readonly HashSet<int> _allocatedPorts = [];
    private readonly StreamWriter? _networkLog;
    private readonly NetnsNetwork? _network;

    public TortureCluster(TortureClusterOptions options)
    {
        _options = options;
        Faults = new LinkFaults(options.Seed);
        Directory.CreateDirectory(MembersDirectory);
        if (options.Network == NetworkMode.Netns)
        {
            _networkLog = new StreamWriter(Path.Combine(options.Folder, "network.log")) { AutoFlush = true };
        }
        try
        {
            _network = _networkLog is null ? null : NetnsNetwork.Create(Faults, options.UseNetem, options.Seed, _networkLog);
            for (var i = 0; i < options.Size; i++)
            {
                NewSlot();
            }
        }
        catch
        {
            _network?.Dispose();
            _networkLog?.Dispose();
            throw;
        }
        var initialCluster = string.Join(",", _slots.Select(slot => $"{slot.Name}={slot.PeerUrl}"));
        foreach (var slot in _slots)
        {
            slot.InitialCluster = initialCluster;
            slot.State = SlotState.Voter;
        }
        Endpoints = new ClusterEndpoints(VoterEndpoints());
    }

    /// <summary>The current members (accepted by the cluster, not removed), learners included, in slot order.</summary>
    public IReadOnlyList<int> Members
    {
        get
        {
            lock (_gate)
            {
                return [.. Enumerable.Range(0, _slots.Count).Where(slot => _slots[slot].State is SlotState.Voter or SlotState.Learner)];
            }
        }
    }

    /// <summary>The current voters (started and promoted), in slot order.</summary>
    public IReadOnlyList<int> Voters
    {
        get
        {
            lock (_gate)
            {
                return [.. Enumerable.Range(0, _slots.Count).Where(slot => _slots[slot].State == SlotState.Voter)];
            }
        }
    }

    /// <summary>Every slot's name, removed members included (index = slot).</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            lock (_gate)
            {
                return [.. _slots.Select(slot => slot.Name)];
            }
        }
    }

    /// <summary>Every slot's client URL, removed members included (index = slot).</summary>
    public IReadOnlyList<string> ClientUrls
    {
        get
        {
            lock (_gate)
            {
                return [.. _slots.Select(slot => slot.ClientUrl)];
            }
        }
    }

    /// <summary>What clients and watchers dial: the voters' client URLs, updated as the membership changes.</summary>
    public ClusterEndpoints Endpoints { get; }

    public LinkFaults Faults { get; }

    public NetworkMode Network => _options.Network;

    /// <summary>What the network faults act on, for the schedule: whole peer frames (proxy) or packets (netns).</summary>
    public string FaultUnit => _network is null ? "peer frames" : "packets between members";

    /// <summary>One line for the schedule: how the members are connected and how faults are made.</summary>
    public string NetworkDescription => _network is { } network
        ? $"netns: each member in namespace {NetnsNames.Namespace(Environment.ProcessId, network.Id, "<name>")}, subnet {network.Subnet} on bridge {network.Bridge} "
            + $"(root namespace {network.Gateway}); partitions and loss: nftables table bridge {network.Table}; latency: {network.LatencyMechanism}; commands in network.log"
        : "proxy: members on 127.0.0.1, each behind a fault-injecting TCP proxy in front of its peer port";

    public string MembersDirectory => Path.Combine(_options.Folder, "members");

    public string LogPath(int member) => Path.Combine(MembersDirectory, Slot(member).Name + ".log");

    public string PeerUrl(int member) => Slot(member).PeerUrl;

    public bool IsRemoved(int member)
    {
        lock (_gate)
        {
            return _slots[member].State == SlotState.Removed;
        }
    }

    public bool IsLearner(int member)
    {
        lock (_gate)
        {
            return _slots[member].State == SlotState.Learner;
        }
    }

    /// <summary>The member id the cluster gave the slot (0 until known).</summary>
    public ulong MemberId(int member) => Slot(member).MemberId;

    /// <summary>Starts the proxies and every member, waits until each says it is ready, and learns their ids.</summary>
    public async Task StartAsync(CancellationToken cancellation)
    {
        foreach (var member in Members)
        {
            Start(member);
        }
        await WaitUntilAsync(async () => (await Task.WhenAll(Members.Select(IsReadyAsync)).ConfigureAwait(false)).All(ready => ready),
            TimeSpan.FromSeconds(90), "every member ready", cancellation).ConfigureAwait(false);
        await WaitUntilAsync(async () => await LearnMemberIdsAsync().ConfigureAwait(false),
            TimeSpan.FromSeconds(30), "the member list names every member", cancellation).ConfigureAwait(false);
    }

    /// <summary>Asks a member for the member list and records each slot's id by its advertised peer URL.</summary>
    private async Task<bool> LearnMemberIdsAsync()
    {
        var listed = await MemberListAsync(Members[0]).ConfigureAwait(false);
        if (listed is null)
        {
            return false;
        }
        foreach (var member in Members)
        {
            var slot = Slot(member);
            var found = listed.Members.FirstOrDefault(entry => entry.PeerURLs.Any(url => SameEndpoint(url, slot.PeerUrl)));
            if (found is null)
            {
                return false;
            }
            slot.MemberId = found.ID;
        }
        return true;
    }

    /// <summary>Whether two URLs name the same host and port.</summary>
    internal static bool SameEndpoint(string url, string other) =>
        Uri.TryCreate(url, UriKind.Absolute, out var a) && Uri.TryCreate(other, UriKind.Absolute, out var b)
        && a.Port == b.Port && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase);

    public bool IsRunning(int member) => Slot(member).Process is { HasExited: false };

    public bool IsPaused(int member) => Slot(member).Paused;

    /// <summary>
    /// Members that exited without being killed (crashed: a fatal error or failed assertion), with exit codes. A
    /// removed member is expected to stop by itself and is not listed.
    /// </summary>
    public IReadOnlyList<string> FindUnexpectedExits()
    {
        var exits = new List<string>(_unexpectedExits);
        foreach (var member in Members)
        {
            if (Slot(member).Process is { HasExited: true } exited)
            {
                exits.Add(string.Create(CultureInfo.InvariantCulture, $"{Slot(member).Name} exited by itself with code {exited.ExitCode} (see {LogPath(member)})"));
            }
        }
        return exits;
    }

    /// <summary>
    /// Starts (or restarts) a member with the arguments it first started with; a removed member stays down. A process
    /// that ended by itself is recorded as an unexpected exit unless <paramref name="exitExpected"/>.
    /// </summary>
    public void Start(int member, bool exitExpected = false)
    {
        var slot = Slot(member);
        if (IsRunning(member) || IsRemoved(member))
        {
            return;
        }
        if (slot.Process is { HasExited: true } exited && !exitExpected)
        {
            _unexpectedExits.Add(string.Create(CultureInfo.InvariantCulture, $"{slot.Name} exited by itself with code {exited.ExitCode} (see {LogPath(member)})"));
        }
        slot.Process?.Dispose();
        slot.Starts++;
        File.AppendAllText(LogPath(member), string.Create(CultureInfo.InvariantCulture,
            $"=== torture: start #{slot.Starts} of {slot.Name} at +{Stopwatch.GetElapsedTime(_startTimestamp).TotalMilliseconds:F0} ms ({slot.InitialClusterState}) ===\n"));
        var command = new List<string>
        {
            Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet",
            _options.ParleyPath, "serve", "--name", slot.Name, "--data-dir", Path.Combine(_options.Folder, "data", slot.Name),
            "--listen-client-urls", slot.ClientUrl,
            "--listen-peer-urls", slot.ListenPeerUrl,
            "--initial-advertise-peer-urls", slot.PeerUrl,
            "--initial-cluster", slot.InitialCluster, "--initial-cluster-state", slot.InitialClusterState,
            "--initial-cluster-token", "torture-" + _options.Seed.ToString(CultureInfo.InvariantCulture),
            "--heartbeat-interval", _options.HeartbeatIntervalMs.ToString(CultureInfo.InvariantCulture),
            "--election-timeout", _options.ElectionTimeoutMs.ToString(CultureInfo.InvariantCulture),
            "--snapshot-count", _options.SnapshotCount.ToString(CultureInfo.InvariantCulture),
        };
        if (_options.InjectBug is { } bug)
        {
            command.AddRange(["--unsafe-inject-bug", bug]);
        }
        slot.Process = MemberLauncher.Start(slot.Namespace, LogPath(member), command);
        slot.Paused = false;
    }

    /// <summary>
    /// A removed member is gone for good: stops its process if it still runs and, in netns mode, deletes its namespace.
    /// Call once the removal is settled and the member had its chance to stop by itself.
    /// </summary>
    public void Retire(int member)
    {
        if (!IsRemoved(member))
        {
            return;
        }
        if (IsRunning(member))
        {
            Kill(member);
        }
        _network?.RemoveSlot(member);
    }

    /// <summary>
    /// A new slot for a member about to be added (name, ports, a started proxy, no process yet). It joins with
    /// <c>--initial-cluster-state existing</c> and an initial cluster of the current members and itself.
    /// </summary>
    public int AddSlot()
    {
        var member = NewSlot();
        var slot = Slot(member);
        slot.InitialClusterState = "existing";
        slot.InitialCluster = string.Join(",", Members.Where(other => other != member).Append(member).Select(other => $"{Slot(other).Name}={Slot(other).PeerUrl}"));
        return member;
    }

    /// <summary>The cluster accepted the new slot as a learner with this id.</summary>
    public void MarkLearner(int member, ulong memberId)
    {
        lock (_gate)
        {
            _slots[member].MemberId = memberId;
            _slots[member].State = SlotState.Learner;
        }
    }

    /// <summary>The learner was promoted: clients may use it from now on.</summary>
    public void MarkVoter(int member)
    {
        lock (_gate)
        {
            _slots[member].State = SlotState.Voter;
        }
        Endpoints.Set(VoterEndpoints());
    }

    /// <summary>The cluster removed the member: clients stop using it, restarts skip it, its exit is expected.</summary>
    public void MarkRemoved(int member)
    {
        lock (_gate)
        {
            _slots[member].State = SlotState.Removed;
        }
        Endpoints.Set(VoterEndpoints());
    }

    /// <summary>Whether the member's process has ended by itself, not killed by the nemesis (a removed member does).</summary>
    public bool ExitedByItself(int member) => Slot(member).Process is { HasExited: true };

    /// <summary>SIGKILL: no shutdown, no flush; whatever was not fsynced is the kernel's (page cache survives a process kill).</summary>
    public void Kill(int member)
    {
        var slot = Slot(member);
        if (slot.Process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill(); // SIGKILL ends a stopped process too
                process.WaitForExit(TimeSpan.FromSeconds(10));
            }
            process.Dispose();
        }
        slot.Process = null;
        slot.Paused = false;
    }

    public void Pause(int member)
    {
        var slot = Slot(member);
        if (slot.Process is { HasExited: false } process && !slot.Paused)
        {
            NativeSignals.Send(process.Id, NativeSignals.Stop);
            slot.Paused = true;
        }
    }

    public void Resume(int member)
    {
        var slot = Slot(member);
        if (slot.Process is { HasExited: false } process && slot.Paused)
        {
            NativeSignals.Send(process.Id, NativeSignals.Continue);
        }
        slot.Paused = false;
    }

    public async Task<bool> IsReadyAsync(int member)
    {
        var slot = Slot(member);
        if (!IsRunning(member) || slot.Paused)
        {
            return false;
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await http.GetAsync(new Uri(slot.ClientUrl + "/readyz")).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    public async Task<StatusResponse?> StatusAsync(int member)
    {
        var slot = Slot(member);
        if (!IsRunning(member) || slot.Paused)
        {
            return null;
        }
        try
        {
            return await new Maintenance.MaintenanceClient(slot.AdminChannel)
                .StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(2)).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>The member list as one member reports it, or null when it does not answer.</summary>
    public async Task<MemberListResponse?> MemberListAsync(int member)
    {
        var slot = Slot(member);
        if (!IsRunning(member) || slot.Paused)
        {
            return null;
        }
        try
        {
            return await new Cluster.ClusterClient(slot.AdminChannel)
                .MemberListAsync(new MemberListRequest(), deadline: DateTime.UtcNow.AddSeconds(2)).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>The member that most running members name as leader, if any (by slot).</summary>
    public async Task<int?> LeaderAsync()
    {
        var members = Members;
        var statuses = await Task.WhenAll(members.Select(StatusAsync)).ConfigureAwait(false);
        var leaderId = statuses.Where(status => status is { Leader: not 0 }).Select(status => status!.Leader)
            .GroupBy(id => id).OrderByDescending(group => group.Count()).Select(group => (ulong?)group.Key).FirstOrDefault();
        for (var i = 0; i < members.Count; i++)
        {
            if (leaderId is not null && statuses[i]?.Header.MemberId == leaderId)
            {
                return members[i];
            }
        }
        return null;
    }

    /// <summary>A channel to the member's client port, kept for the run (for admin calls; do not dispose).</summary>
    public GrpcChannel Channel(int member) => Slot(member).AdminChannel;

    public async Task<HashKVResponse> HashKVAsync(int member, long revision) =>
        await new Maintenance.MaintenanceClient(Slot(member).AdminChannel)
            .HashKVAsync(new HashKVRequest { Revision = revision }, deadline: DateTime.UtcNow.AddSeconds(5)).ConfigureAwait(false);

    /// <summary>A linearizable read of the whole keyspace at a revision (0 = newest), with a deadline.</summary>
    public async Task<RangeResponse> RangeAllAsync(int member, long revision, bool serializable = false) =>
        await new KV.KVClient(Slot(member).AdminChannel).RangeAsync(new RangeRequest
        {
            Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0), Revision = revision, Serializable = serializable,
        }, deadline: DateTime.UtcNow.AddSeconds(5)).ConfigureAwait(false);

    /// <summary>Resumes paused members, restarts stopped ones (removed members stay down), heals the network.</summary>
    public void HealAll()
    {
        Faults.HealAll();
        foreach (var member in Members)
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
        try
        {
            await StopEverythingAsync().ConfigureAwait(false);
        }
        finally
        {
            _network?.Dispose(); // namespaces (and anything still running in them), rules, delay line, bridge
            if (_networkLog is not null)
            {
                await _networkLog.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task StopEverythingAsync()
    {
        MemberSlot[] slots;
        lock (_gate)
        {
            slots = [.. _slots];
        }
        foreach (var slot in slots)
        {
            if (slot.Process is { HasExited: false } process)
            {
                try
                {
                    if (slot.Paused)
                    {
                        NativeSignals.Send(process.Id, NativeSignals.Continue);
                    }
                    NativeSignals.Send(process.Id, NativeSignals.Terminate); // a clean stop
                }
                catch (IOException)
                {
                    // already gone
                }
            }
            slot.Paused = false;
        }
        foreach (var slot in slots)
        {
            if (slot.Process is { } process)
            {
                if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    process.Kill();
                    process.WaitForExit(TimeSpan.FromSeconds(5));
                }
                process.Dispose();
                slot.Process = null;
            }
        }
        foreach (var slot in slots)
        {
            if (slot.Proxy is not null)
            {
                await slot.Proxy.DisposeAsync().ConfigureAwait(false);
            }
            slot.AdminChannel.Dispose();
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

    private MemberSlot Slot(int member)
    {
        lock (_gate)
        {
            return _slots[member];
        }
    }

    /// <summary>A new slot: in proxy mode free ports and a started proxy; in netns mode a namespace with its address.</summary>
    private int NewSlot()
    {
        int index;
        lock (_gate)
        {
            index = _slots.Count; // slots are only added by the constructor and the nemesis, one at a time
        }
        var name = "m" + (index + 1).ToString(CultureInfo.InvariantCulture);
        MemberSlot slot;
        if (_network is { } network)
        {
            var member = network.AddSlot(index, name);
            var client = string.Create(CultureInfo.InvariantCulture, $"http://{member.Address}:{NetnsNetwork.ClientPort}");
            var peer = string.Create(CultureInfo.InvariantCulture, $"http://{member.Address}:{NetnsNetwork.PeerPort}");
            slot = new MemberSlot(name, client, peer, peer, proxy: null, network.Namespace(index));
        }
        else
        {
            var ports = FreePorts(3);
            slot = new MemberSlot(name, $"http://127.0.0.1:{ports[0]}", $"http://127.0.0.1:{ports[1]}", $"http://127.0.0.1:{ports[2]}",
                new PeerProxy(index, ports[2], ports[1], SlotOf, Faults), space: null);
        }
        lock (_gate)
        {
            _slots.Add(slot);
        }
        slot.Proxy?.Start();
        return index;
    }

    /// <summary>The slot a member name (a Hello frame) or advertised peer URL (a JoinQuery) belongs to, or -1.</summary>
    private int SlotOf(string nameOrPeerUrl)
    {
        lock (_gate)
        {
            var slot = _slots.FindIndex(slot => slot.Name == nameOrPeerUrl);
            return slot >= 0 ? slot : _slots.FindIndex(slot => SameEndpoint(nameOrPeerUrl, slot.PeerUrl));
        }
    }

    private Endpoint[] VoterEndpoints()
    {
        lock (_gate)
        {
            return [.. Enumerable.Range(0, _slots.Count).Where(slot => _slots[slot].State == SlotState.Voter).Select(slot => new Endpoint(slot, _slots[slot].ClientUrl))];
        }
    }

    /// <summary>
    /// Free 127.0.0.1 ports (<see cref="LocalPorts"/>: below the ephemeral range), none handed out before in this
    /// cluster: a member's client and peer ports are only bound when it starts, and a released port may be found free again.
    /// </summary>
    private int[] FreePorts(int count)
    {
        var ports = new List<int>();
        for (var attempt = 0; ports.Count < count; attempt++)
        {
            if (attempt > 100)
            {
                throw new InvalidOperationException("no free ports on 127.0.0.1");
            }
            var port = LocalPorts.Free(1)[0];
            lock (_gate)
            {
                if (_allocatedPorts.Add(port))
                {
                    ports.Add(port);
                }
            }
        }
        return [.. ports];
    }

    private enum SlotState
    {
        /// <summary>Allocated, not yet accepted by the cluster.</summary>
        New,
        Learner,
        Voter,
        Removed,
    }

    /// <summary>One member's process, URLs, proxy or namespace, and place in the membership.</summary>
    private sealed class MemberSlot(string name, string clientUrl, string listenPeerUrl, string peerUrl, PeerProxy? proxy, string? space)
    {
        public string Name { get; } = name;

        public string ClientUrl { get; } = clientUrl;

        public string ListenPeerUrl { get; } = listenPeerUrl;

        /// <summary>What the member advertises: its proxy (proxy mode) or its own peer URL (netns mode).</summary>
        public string PeerUrl { get; } = peerUrl;

        public PeerProxy? Proxy { get; } = proxy;

        /// <summary>The network namespace the member runs in (netns mode), or null.</summary>
        public string? Namespace { get; } = space;

        public GrpcChannel AdminChannel { get; } = GrpcChannel.ForAddress(clientUrl);

        public string InitialCluster { get; set; } = "";

        public string InitialClusterState { get; set; } = "new";

        public SlotState State { get; set; } = SlotState.New;

        public ulong MemberId { get; set; }

        public Process? Process { get; set; }

        public bool Paused { get; set; }

        public int Starts { get; set; }
    }
}
