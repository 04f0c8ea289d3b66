using Parley.Raft;

namespace Parley.Simulation;

/// <summary>
/// One simulated member: the real consensus core, a durable store that survives crashes (what was not yet
/// written when it crashed is lost), and the application state machine, driven the way a production host drives
/// them (persist, then acknowledge; apply committed entries; serve reads at their read index).
/// </summary>
public sealed class SimNode : ISimEndpoint
{
    private readonly ClusterSimulation _simulation;
    private readonly Dictionary<ulong, ClientOperation> _pendingWrites = [];
    private readonly Dictionary<ulong, ClientOperation> _pendingReads = [];
    private readonly List<(ulong Index, ClientOperation Operation)> _readsAwaitingApply = [];
    private Ready? _writeInFlight;
    private int _incarnation;
    private ulong _observedCommit;
    private ulong _leaderCommitTerm;

    public SimNode(ClusterSimulation simulation, ulong id, MemoryStorage storage)
    {
        _simulation = simulation;
        Id = id;
        Storage = storage;
    }

    public ulong Id { get; }

    /// <summary>The durable part: survives crashes.</summary>
    public MemoryStorage Storage { get; }

    public KvStateMachine StateMachine { get; } = new();

    public RaftNode? Raft { get; private set; }

    public bool IsRunning => Raft is not null;

    /// <summary>Counts crashes: what was sent or scheduled by an earlier incarnation may be lost.</summary>
    public long Incarnation => _incarnation;

    /// <summary>Removed from the cluster for good.</summary>
    public bool IsRemoved { get; set; }

    public int Snapshots { get; private set; }

    public void Start()
    {
        Invariant.Check(Raft is null && !IsRemoved, "starting a running or removed member");
        var parameters = _simulation.Parameters;
        if (parameters.Bug == SimulationBug.ForgetVote && !Storage.InitialHardState.IsEmpty)
        {
            var stored = Storage.InitialHardState;
            Storage.SetHardState(new HardState(0, 0, stored.Commit));
        }
        StateMachine.Restore(Storage.Snapshot.Data.Span);
        var bugs = parameters.Bug switch
        {
            SimulationBug.CommitOldTerm => RaftBugs.CommitOldTerm,
            SimulationBug.VoteWithoutLogCheck => RaftBugs.VoteWithoutLogCheck,
            _ => RaftBugs.None,
        };
        var options = new RaftOptions
        {
            Id = Id,
            ElectionTimeoutTicks = parameters.ElectionTimeoutTicks,
            HeartbeatIntervalTicks = parameters.HeartbeatIntervalTicks,
            PreVote = parameters.PreVote,
            CheckQuorum = parameters.CheckQuorum,
            EntriesPerMessageMax = parameters.EntriesPerMessageMax,
            InflightMessagesMax = parameters.InflightMessagesMax,
            Bugs = bugs,
        };
        Raft = new RaftNode(options, Storage, new Random(_simulation.Random.Next()), StateMachine.AppliedIndex);
        _observedCommit = Raft.Log.Committed;
        _simulation.Trace.Add($"n{Id} start", Raft);
    }

    public void Crash()
    {
        if (Raft is null)
        {
            return;
        }
        _incarnation++;
        if (_writeInFlight is { } ready && ready.Snapshot is null && ready.Entries.Count > 0 && _simulation.Random.Next(2) == 0)
        {
            // The write was under way: a prefix of its entries reached the disk, nothing after (a torn tail).
            var kept = _simulation.Random.Next(ready.Entries.Count + 1);
            Storage.Append(ready.Entries.Take(kept).ToList());
        }
        _writeInFlight = null;
        _pendingWrites.Clear();
        _pendingReads.Clear();
        _readsAwaitingApply.Clear();
        Raft = null;
        _simulation.Trace.Add($"n{Id} crash");
    }

    public void Tick()
    {
        if (Raft is null)
        {
            return;
        }
        Raft.Tick();
        AfterInput();
    }

    public void Receive(Message message)
    {
        if (Raft is null)
        {
            return;
        }
        if (_simulation.Trace.IsVerbose)
        {
            _simulation.Trace.Add($"n{Id} recv", message);
        }
        Raft.Step(message);
        AfterInput();
    }

    /// <summary>A client's write arrives. Only the leader proposes; others point at the leader they know.</summary>
    public void HandleWrite(ClientOperation operation)
    {
        if (Raft is null)
        {
            return;
        }
        var command = new ClientCommand(operation.Id, operation.Key, operation.Value);
        var result = Raft.Propose(command.Encode());
        if (!result.IsAccepted)
        {
            _simulation.ReplyRedirect(operation, result.LeaderHint);
            return;
        }
        if (_pendingWrites.Remove(result.Index, out var replaced))
        {
            // Our earlier entry at this index was truncated away: that proposal can never commit.
            _simulation.ReplyFailed(replaced);
        }
        _pendingWrites[result.Index] = operation;
        AfterInput();
    }

    public void HandleRead(ClientOperation operation)
    {
        if (Raft is null)
        {
            return;
        }
        if (!Raft.ReadIndex(operation.Id))
        {
            _simulation.ReplyRedirect(operation, 0);
            return;
        }
        _pendingReads[operation.Id] = operation;
        AfterInput();
    }

    public bool ProposeConfigChange(ConfigChange change)
    {
        if (Raft is null || !Raft.ProposeConfigChange(change).IsAccepted)
        {
            return false;
        }
        AfterInput();
        return true;
    }

    public void TransferLeadership(ulong target)
    {
        if (Raft is null)
        {
            return;
        }
        Raft.TransferLeadership(target);
        AfterInput();
    }

    private void AfterInput()
    {
        Pump();
        ObserveCommit();
    }

    private void ObserveCommit()
    {
        if (Raft is null)
        {
            return;
        }
        var commit = Raft.Log.Committed;
        if (commit != _observedCommit)
        {
            _simulation.Checker.OnCommitObserved(this, _observedCommit, commit);
            _observedCommit = commit;
            if (Raft.Role == RaftRole.Leader && Raft.Term != _leaderCommitTerm)
            {
                _leaderCommitTerm = Raft.Term;
                _simulation.OnLeaderFirstCommit(this);
            }
        }
    }

    private void Pump()
    {
        while (Raft is not null && _writeInFlight is null && Raft.HasReady)
        {
            Process(Raft.GetReady());
        }
    }

    private void Process(Ready ready)
    {
        if (ready.SoftState is { Role: RaftRole.Leader })
        {
            _simulation.Trace.Add($"n{Id} leader term {Raft!.Term}");
            _simulation.Checker.OnLeaderElected(this);
            _simulation.OnLeaderElected(this);
        }
        foreach (var message in ready.Messages)
        {
            _simulation.Network.Send(message);
        }
        if (_simulation.Parameters.Bug == SimulationBug.AckBeforePersist)
        {
            foreach (var message in ready.MessagesAfterPersist)
            {
                _simulation.Network.Send(message);
            }
        }
        if (ready.HardState is null && ready.Entries.Count == 0 && ready.Snapshot is null)
        {
            Finish(ready);
            return;
        }
        _writeInFlight = ready;
        var incarnation = _incarnation;
        _simulation.Events.After(_simulation.DiskLatencyMicros(), () =>
        {
            if (incarnation == _incarnation)
            {
                CompleteWrite(ready);
            }
        });
    }

    private void CompleteWrite(Ready ready)
    {
        if (ready.Snapshot is { } snapshot)
        {
            Storage.ApplySnapshot(snapshot);
        }
        Storage.Append(ready.Entries);
        if (ready.HardState is { } hardState)
        {
            Storage.SetHardState(hardState);
        }
        _simulation.Checker.OnPersisted(this, ready.Entries, Storage.InitialHardState.Commit);
        _writeInFlight = null;
        Finish(ready);
        AfterInput();
    }

    private void Finish(Ready ready)
    {
        var raft = Raft!;
        if (_simulation.Parameters.Bug != SimulationBug.AckBeforePersist)
        {
            foreach (var message in ready.MessagesAfterPersist)
            {
                _simulation.Network.Send(message);
            }
        }
        if (ready.Snapshot is { } snapshot)
        {
            StateMachine.Restore(snapshot.Data.Span);
            FailPendingWritesUpTo(snapshot.Metadata.Index);
        }
        foreach (var entry in ready.CommittedEntries)
        {
            Apply(entry);
            if (Raft is null)
            {
                return; // removed from the cluster while applying
            }
        }
        raft.Advance(ready);
        foreach (var readState in ready.ReadStates)
        {
            if (_pendingReads.Remove(readState.RequestId, out var read))
            {
                _readsAwaitingApply.Add((readState.Index, read));
            }
        }
        ServeReads();
        MaybeSnapshot();
    }

    private void Apply(Entry entry)
    {
        _simulation.Checker.OnApplied(this, entry);
        if (entry.Type == EntryType.ConfigChange)
        {
            var change = ConfigChange.Decode(entry.Data.Span);
            Raft!.ApplyConfigChange(change);
            StateMachine.Skip(entry.Index);
            _simulation.OnConfigChangeApplied(this, change);
        }
        else if (entry.Data.IsEmpty)
        {
            StateMachine.Skip(entry.Index);
        }
        else
        {
            StateMachine.Apply(entry.Index, ClientCommand.Decode(entry.Data.Span));
        }
        if (_pendingWrites.Remove(entry.Index, out var write))
        {
            var applied = entry.Type == EntryType.Normal && !entry.Data.IsEmpty ? ClientCommand.Decode(entry.Data.Span).OperationId : 0;
            if (applied == write.Id)
            {
                _simulation.ReplyWritten(write, entry.Index);
            }
            else
            {
                _simulation.ReplyFailed(write);
            }
        }
    }

    private void FailPendingWritesUpTo(ulong index)
    {
        // Their fate is inside a snapshot we cannot look into: leave them to time out as unknown.
        foreach (var pendingIndex in _pendingWrites.Keys.Where(k => k <= index).ToList())
        {
            _pendingWrites.Remove(pendingIndex);
        }
    }

    private void ServeReads()
    {
        for (var i = _readsAwaitingApply.Count - 1; i >= 0; i--)
        {
            var (index, read) = _readsAwaitingApply[i];
            if (StateMachine.AppliedIndex >= index)
            {
                _readsAwaitingApply.RemoveAt(i);
                var (value, valueIndex) = StateMachine.Read(read.Key);
                _simulation.ReplyRead(read, value, valueIndex);
            }
        }
    }

    private void MaybeSnapshot()
    {
        var parameters = _simulation.Parameters;
        var applied = StateMachine.AppliedIndex;
        if (Raft is null || applied < Storage.Snapshot.Metadata.Index + (ulong)parameters.SnapshotIntervalEntries)
        {
            return;
        }
        if (!Storage.TryGetTerm(applied, out var term))
        {
            return;
        }
        var metadata = new SnapshotMetadata(applied, term, Raft.Config);
        var compactIndex = Math.Max(Storage.FirstIndex - 1, applied > (ulong)parameters.SnapshotMarginEntries ? applied - (ulong)parameters.SnapshotMarginEntries : 0);
        Storage.CreateSnapshot(new Snapshot(metadata, StateMachine.Serialize()), compactIndex);
        Snapshots++;
        _simulation.Trace.Add($"n{Id} snapshot at {applied}");
    }
}
