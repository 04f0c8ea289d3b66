using Parley.Node;
using Parley.Raft;
using Parley.Storage;

namespace Parley.Simulation.NodeMode;

/// <summary>
/// One seeded run of whole members on virtual time: each member is a real <see cref="ClusterNode"/> over a real
/// <see cref="MemberStorage"/> on its own <see cref="SimulatedFileSystem"/>. A fault phase (crashes that lose unsynced
/// writes and may tear the last one, bit flips in a crashed member's stored data, partitions, message loss) under
/// etcd-style client load (puts, linearizable ranges, with deadlines) is followed by a healed liveness phase; at the
/// end every live member must hold the same keyspace (equal HashKV at the same revision) containing every
/// acknowledged write. The same seed replays the same run exactly.
/// </summary>
public sealed partial class NodeSimulation
{
    private const ulong ClusterId = 0x9a71e7_c105_7e5d;
    /// <summary>A seed takes tens of thousands of events; a message storm that never lets virtual time pass is a finding, not a hang.</summary>
    private const long EventsMax = 5_000_000;

    private readonly List<SimMember> _members = [];
    private readonly List<NodeClient> _clients = [];
    private bool _faultPhase = true;
    private MembershipView? _finalMembership;
    private long _events;
    private int _crashes;
    private int _partitions;
    private int _flips;
    private int _flipsRefused;
    private int _flipsHarmless;
    private int _operationsCompleted;
    private int _operationsTimedOut;

    public NodeSimulation(NodeSimulationParameters parameters, TextWriter? traceWriter = null)
    {
        Parameters = parameters;
        Random = new Random(unchecked((int)parameters.Seed ^ (int)(parameters.Seed >> 32) ^ 0x40de5eed));
        Events = new EventQueue();
        Trace = new Trace(Events, 64, traceWriter);
        Checker = new NodeChecker();
        Membership = new MembershipChecker([.. Enumerable.Range(1, parameters.Nodes).Select(i => (ulong)i)]);
        Network = new NodeNetwork(Events, Random, parameters, FindMember);
    }

    public NodeSimulationParameters Parameters { get; }

    public Random Random { get; }

    public EventQueue Events { get; }

    public Trace Trace { get; }

    public NodeChecker Checker { get; }

    public MembershipChecker Membership { get; }

    public NodeNetwork Network { get; }

    public IReadOnlyList<SimMember> Members => _members;

    public static NodeSimulationResult Run(ulong seed, int? nodes, NodeSimulationBug bug, TextWriter? traceWriter = null) =>
        new NodeSimulation(NodeSimulationParameters.FromSeed(seed, nodes, bug), traceWriter).Run();

    public NodeSimulationResult Run()
    {
        string? violation = null;
        var kind = "";
        try
        {
            Trace.Add($"seed {Parameters.Seed}: {Parameters}");
            Setup();
            RunFaultPhase();
            RunLivenessPhase();
            CheckFinalState();
        }
        catch (SimulationViolation exception)
        {
            violation = exception.Message;
            kind = exception.Kind;
        }
        catch (InvariantViolationException exception)
        {
            violation = "core assertion: " + exception.Message;
            kind = "assertion";
        }
        catch (StorageFatalException exception)
        {
            violation = "storage stopped the member: " + exception.Message;
            kind = "storage";
        }
#pragma warning disable CA1031 // any other exception out of a member is a finding, reported with its seed
        catch (Exception exception)
#pragma warning restore CA1031
        {
            violation = $"unexpected {exception.GetType().Name}: {exception.Message}";
            kind = "exception";
        }
        return new NodeSimulationResult
        {
            Seed = Parameters.Seed,
            Parameters = Parameters,
            Violation = violation,
            ViolationKind = kind,
            TraceTail = violation is null ? "" : Trace.Tail(40),
            VirtualMicros = Events.NowMicros,
            Events = _events,
            MessagesSent = Network.MessagesSent,
            OperationsCompleted = _operationsCompleted,
            OperationsTimedOut = _operationsTimedOut,
            WritesAcknowledged = Checker.WritesAcknowledged,
            ReadsChecked = Checker.ReadsChecked,
            Crashes = _crashes,
            Flips = _flips,
            FlipsRefused = _flipsRefused,
            FlipsHarmless = _flipsHarmless,
            Partitions = _partitions,
            MembershipRequests = _membershipRequests,
            MembershipApplied = _membershipApplied,
            MembershipRefused = _membershipRefused,
            LearnersAdded = _learnersAdded,
            Promotions = _promotions,
            Removals = _removals,
            LeaderRemovals = _leaderRemovals,
            Replacements = _replacements,
            PeerUrlUpdates = _urlUpdates,
            Joiners = _joiners,
            MembersRetired = _members.Count(m => m.AppliedOwnRemoval),
            RemovedUnconfirmed = _members.Count(m => m.IsRunning && m.OwnRemovalIndex != 0),
            Transfers = _transfers,
            TransfersCompleted = _transfersCompleted,
            LeaderElections = Checker.LeaderElections,
            FileSyncs = _members.Sum(m => m.FileSystem.FileSyncCount),
        };
    }

    private SimMember? FindMember(ulong id) => id >= 1 && id <= (ulong)_members.Count ? _members[(int)id - 1] : null;

    private void Setup()
    {
        for (var i = 1; i <= Parameters.Nodes; i++)
        {
            _members.Add(new SimMember(this, (ulong)i, new SimulatedFileSystem(new Random(Random.Next()))));
        }
        foreach (var member in _members)
        {
            Start(member, flipped: null);
            // The injected bug bites after the first start: the identity file, the first segment and the bootstrap
            // entries are durable, so what it loses is the log's later appends, as a broken WAL sync path would.
            member.FileSystem.IgnoreFileSyncs = Parameters.Bug == NodeSimulationBug.SkipFsync;
        }
        for (var i = 0; i < Parameters.Clients; i++)
        {
            var client = new NodeClient(this, i + 1);
            _clients.Add(client);
            Events.After(Random.NextInt64(50_000), client.StartNext);
        }
        ScheduleNemeses();
        ScheduleOperator();
    }

    private StorageOptions StorageOptions() => new()
    {
        SegmentSizeBytes = Parameters.SegmentSizeBytes,
        SnapshotsRetained = 2,
        SkipChecksumVerification = Parameters.Bug == NodeSimulationBug.NoCrcCheck,
        // A failed sync must stop the member; here it surfaces as a StorageFatalException (none is injected).
        FatalHandler = _ => { },
    };

    /// <summary>The initial members bootstrap the cluster; a fresh member joins with no initial voters (the log or a
    /// snapshot brings it the membership).</summary>
    private NodeOptions NodeOptions(ulong id) => new()
    {
        MemberId = id,
        InitialVoters = id <= (ulong)Parameters.Nodes ? [.. Enumerable.Range(1, Parameters.Nodes).Select(i => (ulong)i)] : [],
        InitialPeerUrls = Enumerable.Range(1, Parameters.Nodes).ToDictionary(i => (ulong)i, i => (IReadOnlyList<string>)PeerUrls((ulong)i, 0)),
        ElectionTimeoutTicks = Parameters.ElectionTimeoutTicks,
        HeartbeatIntervalTicks = Parameters.HeartbeatIntervalTicks,
        RequestTimeoutTicks = Parameters.RequestTimeoutTicks,
        SnapshotCountEntries = Parameters.SnapshotCountEntries,
        SnapshotLogBytesMin = (long)Parameters.SnapshotCountEntries * 48, // entries average more: the byte rule fires too
        SnapshotCatchUpEntries = Parameters.SnapshotCatchUpEntries,
        SyncOffLoop = Parameters.SyncOffLoop,
        AutoCompactionMode = Parameters.AutoCompactionTicks > 0 ? AutoCompactionMode.Periodic : AutoCompactionMode.Off,
        AutoCompactionRetention = Parameters.AutoCompactionTicks,
    };

    /// <summary>
    /// Opens the member's storage (recovery) and builds its node. <paramref name="flipped"/> is the reference state
    /// when a bit was flipped since the last recovery: then the storage must refuse to open (the member is quarantined)
    /// or read back exactly that state.
    /// </summary>
    private void Start(SimMember member, (StorageFingerprint Reference, string Where)? flipped)
    {
        MemberStorage storage;
        try
        {
            storage = MemberStorage.Open(member.FileSystem, SimMember.DataDirectory, new StorageIdentity(ClusterId, member.Id), StorageOptions());
        }
        catch (Exception exception) when (exception is StorageCorruptionException or StorageRefusedException)
        {
            if (flipped is null)
            {
                throw new SimulationViolation(
                    $"recovery: member {member.Id} cannot start after a crash alone (no bit was flipped): {exception.Message}")
                { Kind = "durability" };
            }
            member.IsQuarantined = true;
            OnQuarantined();
            _flipsRefused++;
            Trace.Add($"n{member.Id} refuses to start, quarantined: {exception.Message}");
            return;
        }
        var recovered = storage.Recovered;
        foreach (var note in recovered.Notes)
        {
            Trace.Add($"n{member.Id} recovery: {note}");
        }
        if (flipped is { } flip)
        {
            if (flip.Reference.Compare(recovered) is { } difference)
            {
                storage.Dispose();
                throw new SimulationViolation(
                    $"corrupt data accepted: member {member.Id} recovered after a bit flip ({flip.Where}) and read back damaged state: {difference}")
                { Kind = "corruption" };
            }
            _flipsHarmless++;
            Trace.Add($"n{member.Id} flip left the recovered state intact");
        }
        Checker.OnRecovered(member.Id, recovered);
        var node = new ClusterNode(NodeOptions(member.Id), storage, member, new Random(Random.Next()));
        node.MembersChanged = () => OnMembersChanged(member, node);
        member.Started(storage, node);
        node.SnapshotWorker = new DeferredSnapshotWorker(this, member, member.Incarnation);
        node.WalSyncer = new DeferredWalSyncer(this, member, member.Incarnation);
        member.SelfInMembership = MembershipView.Of(node.GetStatus()).Contains(member.Id);
        Trace.Add($"n{member.Id} started (incarnation {member.Incarnation}): term={recovered.HardState.Term} vote={recovered.HardState.Vote} " +
                  $"snapshot={recovered.Snapshot.Metadata.Index} last={recovered.LastIndex}");
        var incarnation = member.Incarnation;
        // Members tick at the same rate but out of phase, as real clocks would.
        Events.After(Random.NextInt64(Parameters.TickMicros), () => TickLoop(member, incarnation));
    }

    /// <summary>
    /// Periodic snapshots finish later, as a real member's background writer's do: the file is written after a random
    /// delay and the node hears of it after another, while it goes on applying, installing snapshots from the leader,
    /// compacting and serving. A crash in between loses the work (a file written but not committed is no recovery point).
    /// </summary>
    private sealed class DeferredSnapshotWorker(NodeSimulation simulation, SimMember member, long incarnation) : ISnapshotWorker
    {
        public void Run(Action work, Action<Exception?> finished)
        {
            var maxDelay = simulation.Parameters.TickMicros * 4;
            simulation.Events.After(simulation.Random.NextInt64(maxDelay), () =>
            {
                if (member.Incarnation != incarnation)
                {
                    return;
                }
                Exception? failure = null;
                try
                {
                    work();
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    failure = exception;
                }
                simulation.Trace.Add($"n{member.Id} snapshot file written{(failure is null ? "" : ": " + failure.Message)}");
                simulation.Events.After(simulation.Random.NextInt64(maxDelay), () =>
                {
                    if (member.Incarnation == incarnation)
                    {
                        finished(failure);
                        simulation.ScheduleTurn(member);
                    }
                });
            });
        }
    }

    /// <summary>
    /// WAL batches (<see cref="NodeSimulationParameters.SyncOffLoop"/>) are written and synced a random while after the
    /// node takes them, and the node hears of it a random while later, as a real member's sync thread and inbox would
    /// have it. A crash before the write loses the batch; a crash after it keeps it, unreported.
    /// </summary>
    private sealed class DeferredWalSyncer(NodeSimulation simulation, SimMember member, long incarnation) : IWalSyncer
    {
        public void Start(Action work, Action completed)
        {
            var maxDelay = simulation.Parameters.SyncDelayMaxMicros;
            simulation.Events.After(simulation.Random.NextInt64(maxDelay), () =>
            {
                if (member.Incarnation != incarnation)
                {
                    return;
                }
                work();
                simulation.Events.After(simulation.Random.NextInt64(maxDelay), () =>
                {
                    if (member.Incarnation == incarnation)
                    {
                        completed();
                        simulation.ScheduleTurn(member);
                    }
                });
            });
        }
    }

    private void TickLoop(SimMember member, long incarnation)
    {
        if (member.Incarnation != incarnation || member.Node is not { } node)
        {
            return;
        }
        node.Tick();
        ScheduleTurn(member);
        Events.After(Parameters.TickMicros, () => TickLoop(member, incarnation));
    }

    /// <summary>The member takes its next turn shortly; everything that arrives meanwhile shares it (and its fsync).</summary>
    public void ScheduleTurn(SimMember member)
    {
        if (member.TurnScheduled || !member.IsRunning)
        {
            return;
        }
        member.TurnScheduled = true;
        var incarnation = member.Incarnation;
        var delay = Parameters.TurnDelayMinMicros + Random.NextInt64(Parameters.TurnDelayMaxMicros - Parameters.TurnDelayMinMicros + 1);
        Events.After(delay, () => Turn(member, incarnation));
    }

    private void Turn(SimMember member, long incarnation)
    {
        if (member.Incarnation != incarnation || member.Node is not { } node)
        {
            return;
        }
        member.TurnScheduled = false;
        node.Process();
        RetireIfRemoved(member, node);
        if (member.IsRunning && node.Leader == member.Id)
        {
            var status = node.GetStatus();
            if (status.IsLeader)
            {
                var before = Checker.LeaderElections;
                Checker.OnLeaderObserved(member.Id, status.Term);
                if (Checker.LeaderElections != before)
                {
                    Trace.Add($"n{member.Id} leads term {status.Term} (commit {status.CommitIndex})");
                }
            }
        }
    }

    public void OnSend(SimMember member, Message message)
    {
        Checker.OnSend(message);
        if (Trace.IsVerbose)
        {
            Trace.Add($"send {message}");
        }
        Network.Send(message);
    }

    private void RunFaultPhase()
    {
        while (Events.NowMicros < Parameters.FaultPhaseMicros && Events.RunNext(Parameters.FaultPhaseMicros))
        {
            CountEvent();
        }
    }

    private void CountEvent()
    {
        if (++_events > EventsMax)
        {
            throw new SimulationViolation($"liveness: {EventsMax} events by {Events.NowMicros / 1000}ms virtual, a storm ({DescribeMembers()})") { Kind = "liveness" };
        }
    }

    private void RunLivenessPhase()
    {
        _faultPhase = false;
        Network.Heal();
        Network.Faulty = false;
        foreach (var member in _members)
        {
            if (!member.IsRunning && !member.IsDead)
            {
                Start(member, flipped: null);
            }
        }
        Trace.Add("heal: network healed, every member not quarantined or retired restarted");
        var deadline = Events.NowMicros + Parameters.LivenessBudgetMicros;
        var nextCheck = Events.NowMicros;
        while (Events.NowMicros < deadline)
        {
            if (!Events.RunNext(deadline))
            {
                break;
            }
            CountEvent();
            if (Events.NowMicros >= nextCheck)
            {
                nextCheck = Events.NowMicros + 50_000;
                if (Converged())
                {
                    Trace.Add("converged");
                    return;
                }
            }
        }
        throw new SimulationViolation(
            $"liveness: no convergence within {Parameters.LivenessBudgetMicros / 1000}ms after healing " +
            $"(acknowledged up to revision {Checker.AckedRevisionMax}; {DescribeMembers()})")
        { Kind = "liveness" };
    }

    /// <summary>
    /// One leader that every member of its membership follows (except those that will never run again), idle clients,
    /// and all of them applied exactly what the leader committed. Members outside the membership (removed members that never
    /// applied their removal, fresh members whose addition never applied) have no part in it.
    /// </summary>
    private bool Converged()
    {
        if (_clients.Any(c => c.IsBusy))
        {
            return false;
        }
        if (CurrentLeader()?.Node?.GetStatus() is not { IsLeader: true } leader)
        {
            return false;
        }
        foreach (var id in leader.Voters.Concat(leader.Learners))
        {
            var member = FindMember(id);
            if (member is null || member.IsDead)
            {
                continue;
            }
            if (member.Node is not { } node)
            {
                return false;
            }
            var status = node.GetStatus();
            // A member may have applied more than a leader just elected knows committed (a commit index is not always
            // synced): converged only once the leader's commit covers it.
            if (status.Leader != leader.MemberId || status.AppliedIndex < leader.CommitIndex || status.AppliedIndex > leader.CommitIndex ||
                status.Revision < Checker.AckedRevisionMax)
            {
                return false;
            }
        }
        _finalMembership = MembershipView.Of(leader);
        return true;
    }

    /// <summary>Every live member of the final membership holds the same keyspace and membership, and the keyspace
    /// holds every acknowledged write.</summary>
    private void CheckFinalState()
    {
        var final = _finalMembership!;
        var live = _members.Where(m => m.Node is not null && final.Contains(m.Id)).ToList();
        var first = live[0];
        var revision = first.Node!.Store.Revision;
        // Revision 0 hashes at the current revision even when history was compacted up to it (auto-compaction).
        var hash = first.Node.Store.HashKV(0);
        foreach (var member in live)
        {
            var store = member.Node!.Store;
            Membership.CheckFinal(member.Id, member.Node.GetStatus());
            if (store.Revision != revision)
            {
                throw new SimulationViolation($"state divergence: member {first.Id} is at revision {revision}, member {member.Id} at {store.Revision}");
            }
            if (store.CompactRevision != first.Node.Store.CompactRevision)
            {
                throw new SimulationViolation(
                    $"state divergence: member {first.Id} is compacted to revision {first.Node.Store.CompactRevision}, member {member.Id} to {store.CompactRevision}");
            }
            var memberHash = store.HashKV(0);
            if (!memberHash.IsSuccess || !hash.IsSuccess || memberHash.Value!.Hash != hash.Value!.Hash)
            {
                throw new SimulationViolation(
                    $"state divergence: HashKV at revision {revision} is {hash.Value?.Hash:x8} on member {first.Id} and {memberHash.Value?.Hash:x8} on member {member.Id}");
            }
            foreach (var (key, acked) in Checker.AckedRevisionByKey)
            {
                var range = store.Range(new Parley.Mvcc.RangeRequest { Key = System.Text.Encoding.UTF8.GetBytes(key), Serializable = true });
                if (!range.IsSuccess)
                {
                    throw new SimulationViolation($"final read of {key} on member {member.Id} failed: {range.ErrorMessage}");
                }
                Checker.OnRead(key, acked, Checker.AckedRevisionMax, range.Value!, member.Id);
            }
        }
        foreach (var member in _members.Where(m => m.AppliedOwnRemoval && final.Contains(m.Id)))
        {
            throw MembershipChecker.Violation($"membership: removed member {member.Id} is back in the final membership {final}");
        }
        Trace.Add($"final: {live.Count} live members agree at revision {revision}, HashKV {hash.Value?.Hash:x8}, membership {final.Fingerprint}");
    }

    private string DescribeMembers() => string.Join("; ", _members.Select(m => m.ToString())) + "; network " + Network.Describe();
}
