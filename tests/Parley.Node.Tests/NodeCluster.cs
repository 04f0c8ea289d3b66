using Parley.Mvcc;
using Parley.Raft;
using Parley.Storage;

namespace Parley.Node.Tests;

/// <summary>
/// Three (or more) real <see cref="ClusterNode"/>s over <see cref="MemberStorage"/> on simulated disks, wired by an
/// in-memory network that delivers everything at once. Time moves only by <see cref="Tick"/>; members can be killed.
/// </summary>
internal sealed partial class NodeCluster : IDisposable
{
    private const int DeliveryRoundsMax = 1_000;

    private readonly Dictionary<ulong, Member> _members = [];
    private readonly Queue<(ulong To, Action<ClusterNode> Input)> _inFlight = new();

    /// <param name="prepareDisk">runs on each member's empty disk before its storage opens (member id, voters, disk),
    /// e.g. to restore a data directory at <see cref="DataDirectory"/></param>
    /// <param name="syncOffLoop">members sync their WAL off the loop (NodeOptions.SyncOffLoop): each batch is held until
    /// <see cref="CompleteSyncs"/>, or the next round of <see cref="Settle"/> unless <see cref="HoldSyncs"/></param>
    /// <param name="configure">changes each member's options (e.g. auto-compaction)</param>
    public NodeCluster(int size = 3, int leaseCheckpointIntervalTicks = 3_000, int seed = 1, ulong snapshotCountEntries = 100_000,
        Action<ulong, IReadOnlyList<ulong>, SimulatedFileSystem>? prepareDisk = null, bool syncOffLoop = false,
        Func<NodeOptions, NodeOptions>? configure = null)
    {
        var voters = Enumerable.Range(1, size).Select(i => (ulong)i).ToArray();
        var random = new Random(seed);
        foreach (var id in voters)
        {
            var fileSystem = new SimulatedFileSystem(new Random(random.Next()));
            prepareDisk?.Invoke(id, voters, fileSystem);
            var storage = MemberStorage.Open(fileSystem, DataDirectory, Identity(id));
            var member = new Member(this, id, storage) { FileSystem = fileSystem };
            var options = new NodeOptions
            {
                MemberId = id,
                InitialVoters = voters,
                ElectionTimeoutTicks = ElectionTimeoutTicks,
                TickIntervalMs = 100,
                LeaseCheckpointIntervalTicks = leaseCheckpointIntervalTicks,
                SnapshotCountEntries = snapshotCountEntries,
                SnapshotCatchUpEntries = Math.Min(5_000, snapshotCountEntries / 2),
                InitialPeerUrls = voters.ToDictionary(voter => voter, voter => (IReadOnlyList<string>)[PeerUrl(voter)]),
                SyncOffLoop = syncOffLoop,
            };
            options = configure?.Invoke(options) ?? options;
            member.Options = options;
            member.Node = new ClusterNode(options, storage, member, new Random(random.Next())) { WalSyncer = member };
            _members[id] = member;
        }
    }

    public const int ElectionTimeoutTicks = 10;

    public const string DataDirectory = "/data";

    public static StorageIdentity Identity(ulong member) => new(77, member);

    public const int TicksPerSecond = 10;

    public long Now { get; private set; }

    /// <summary>Raft messages for which this returns true are lost on the way.</summary>
    public Func<Message, bool>? DropMessageWhen { get; set; }

    public IEnumerable<ulong> Live => _members.Values.Where(member => !member.IsDown).Select(member => member.Id);

    private IEnumerable<Member> Running => _members.Values.Where(member => !member.IsDown && !member.IsPaused);

    public ClusterNode Node(ulong id) => _members[id].Node;

    public SimulatedFileSystem Disk(ulong id) => _members[id].FileSystem!;

    /// <summary>One turn of one member, nothing delivered (see <see cref="DeliverInFlight"/>).</summary>
    public void Process(ulong id) => _members[id].Node.Process();

    /// <summary>Hands every message now on the way to its receiver, without running any member's turn.</summary>
    public void DeliverInFlight()
    {
        for (var count = _inFlight.Count; count > 0 && _inFlight.TryDequeue(out var delivery); count--)
        {
            if (_members.TryGetValue(delivery.To, out var receiver) && !receiver.IsDown && !receiver.IsPaused)
            {
                delivery.Input(receiver.Node);
            }
        }
    }

    /// <summary>The live member that leads and keeps the lease clocks, after ticking until there is one.</summary>
    public ulong Leader()
    {
        for (var i = 0; i < 50 * ElectionTimeoutTicks; i++)
        {
            foreach (var member in _members.Values)
            {
                if (!member.IsDown && member.Node.IsLessorPrimary)
                {
                    return member.Id;
                }
            }
            Tick();
        }
        throw new InvalidOperationException("no leader emerged");
    }

    public ulong Follower() => Live.First(id => id != Leader());

    /// <summary>Which traffic the network carries: (from, to, kind) → deliver? Null delivers everything.</summary>
    public Func<ulong, ulong, Traffic, bool>? Deliver { get; set; }

    /// <summary>Every forward is delivered twice (a network that duplicates).</summary>
    public bool DuplicateForwards { get; set; }

    /// <summary>Everything the network accepted for delivery, in order.</summary>
    public List<(ulong From, ulong To, Traffic Kind)> Sent { get; } = [];

    public void Kill(ulong id) => _members[id].IsDown = true;

    /// <summary>A paused member neither ticks nor runs turns (a frozen process); traffic to it is lost meanwhile.</summary>
    public void Pause(ulong id) => _members[id].IsPaused = true;

    public void Resume(ulong id) => _members[id].IsPaused = false;

    /// <summary>Power loss and restart: the disk keeps only what was synced, and the member recovers from it.</summary>
    public void CrashAndRestart(ulong id)
    {
        var member = _members[id];
        member.Storage.Dispose();
        member.FileSystem!.Crash();
        member.Storage = MemberStorage.Open(member.FileSystem, DataDirectory, Identity(id));
        member.HeldSyncs.Clear(); // lost with the power
        member.Node = new ClusterNode(member.Options!, member.Storage, member, new Random((int)id)) { WalSyncer = member };
    }

    /// <summary>With syncOffLoop: WAL batches wait for <see cref="CompleteSyncs"/> instead of the next round of <see cref="Settle"/>.</summary>
    public bool HoldSyncs { get; set; }

    /// <summary>With syncOffLoop: how many WAL batches of the member wait to be written.</summary>
    public int HeldSyncs(ulong id) => _members[id].HeldSyncs.Count;

    /// <summary>With syncOffLoop: writes and syncs the member's held WAL batches and reports them to its node.</summary>
    public void CompleteSyncs(ulong id)
    {
        var held = _members[id].HeldSyncs;
        while (held.TryDequeue(out var sync))
        {
            sync.Work();
            sync.Completed();
        }
    }

    public void Tick(int count = 1)
    {
        for (var i = 0; i < count; i++)
        {
            Now++;
            foreach (var member in Running)
            {
                member.Node.Tick();
            }
            Settle();
        }
    }

    /// <summary>Runs turns and deliveries until nothing moves (bounded).</summary>
    public void Settle()
    {
        for (var round = 0; round < DeliveryRoundsMax; round++)
        {
            var syncsHeld = false;
            foreach (var member in Running)
            {
                if (!HoldSyncs)
                {
                    CompleteSyncs(member.Id);
                }
                member.Node.Process();
                syncsHeld |= member.HeldSyncs.Count > 0;
            }
            if (_inFlight.Count == 0 && (HoldSyncs || !syncsHeld))
            {
                return;
            }
            while (_inFlight.TryDequeue(out var delivery))
            {
                if (_members.TryGetValue(delivery.To, out var receiver) && !receiver.IsDown && !receiver.IsPaused)
                {
                    delivery.Input(receiver.Node);
                }
            }
        }
        throw new InvalidOperationException("the cluster did not settle");
    }

    public WriteResult Write(ulong at, WriteCommand command)
    {
        WriteResult? result = null;
        Node(at).SubmitWrite(command, outcome => result = outcome);
        for (var i = 0; result is null && i < 100; i++)
        {
            Settle();
            if (result is null)
            {
                Tick();
            }
        }
        return result ?? throw new InvalidOperationException("write did not complete");
    }

    public long Grant(ulong at, long ttlSeconds, long id = 0)
    {
        var result = Write(at, WriteCommand.LeaseGrant(new LeaseGrantRequest { TTL = ttlSeconds, ID = id }));
        Assert.Equal(NodeError.None, result.Error);
        return ((LeaseGrantResponse)result.Outcome!.Response!).ID;
    }

    public void Put(ulong at, string key, long lease)
    {
        var result = Write(at, WriteCommand.Put(new PutRequest { Key = System.Text.Encoding.UTF8.GetBytes(key), Value = [1], Lease = lease }));
        Assert.Equal(NodeError.None, result.Error);
        Assert.True(result.Outcome!.IsSuccess, result.Outcome.ErrorMessage);
    }

    /// <summary>Asks a lease question at <paramref name="at"/>, settling (and ticking if need be) until it is answered.</summary>
    public LeaseAnswer Ask(ulong at, LeaseQueryKind kind, long leaseId, bool withKeys = false)
    {
        LeaseAnswer? answer = null;
        Node(at).SubmitLeaseQuery(kind, leaseId, withKeys, reply => answer = reply);
        for (var i = 0; answer is null && i < 100; i++)
        {
            Settle();
            if (answer is null)
            {
                Tick();
            }
        }
        return answer ?? throw new InvalidOperationException("lease question not answered");
    }

    public bool HasLease(ulong at, long leaseId) => Node(at).Store.TryGetLeaseTtl(leaseId, out _, out _);

    public void Dispose()
    {
        foreach (var member in _members.Values)
        {
            member.Storage.Dispose();
        }
    }

    private sealed class Member(NodeCluster cluster, ulong id, MemberStorage storage) : INodeTransport, IWalSyncer
    {
        public Queue<(Action Work, Action Completed)> HeldSyncs { get; } = new();

        public void Start(Action work, Action completed) => HeldSyncs.Enqueue((work, completed));

        public ulong Id { get; } = id;

        public MemberStorage Storage { get; set; } = storage;

        public SimulatedFileSystem? FileSystem { get; init; }

        public NodeOptions? Options { get; set; }

        public ClusterNode Node { get; set; } = null!;

        public bool IsDown { get; set; }

        public bool IsPaused { get; set; }

        public void Send(Message message)
        {
            if (cluster.DropMessageWhen?.Invoke(message) != true)
            {
                Post(message.To, Traffic.Raft, node => node.Step(message));
            }
        }

        public void Forward(ulong leader, IReadOnlyList<byte[]> proposals)
        {
            Post(leader, Traffic.Forward, node => node.ReceiveForwarded(Id, proposals));
            if (cluster.DuplicateForwards)
            {
                Post(leader, Traffic.Forward, node => node.ReceiveForwarded(Id, proposals));
            }
        }

        public void SendForwardAnswer(ulong member, ForwardAnswer answer) => Post(member, Traffic.ForwardAnswer, node => node.ReceiveForwardAnswer(answer));

        public void SendLeaseQuery(ulong leader, LeaseQuery query) => Post(leader, Traffic.Lease, node => node.ReceiveLeaseQuery(Id, query));

        public void SendLeaseAnswer(ulong member, LeaseAnswer answer) => Post(member, Traffic.Lease, node => node.ReceiveLeaseAnswer(answer));

        private void Post(ulong to, Traffic kind, Action<ClusterNode> input)
        {
            if (IsDown || cluster.Deliver?.Invoke(Id, to, kind) == false)
            {
                return;
            }
            cluster.Sent.Add((Id, to, kind));
            cluster._inFlight.Enqueue((to, input));
        }
    }
}

/// <summary>Kinds of traffic between members in <see cref="NodeCluster"/>.</summary>
internal enum Traffic
{
    Raft,
    Forward,
    ForwardAnswer,
    Lease,
}
