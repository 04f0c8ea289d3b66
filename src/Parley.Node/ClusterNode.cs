using System.Runtime.ExceptionServices;
using Parley.Mvcc;
using Parley.Raft;
using Parley.Storage;
using Invariant = Parley.Raft.Invariant;

namespace Parley.Node;

/// <summary>
/// One member's deterministic core: the Raft node, the MVCC keyspace and the requests waiting on them, driven by
/// one logical thread. The host feeds inputs (<see cref="Tick"/>, <see cref="Step"/>, <see cref="SubmitWrite"/>,
/// <see cref="SubmitRead"/>, <see cref="ReceiveForwarded"/>) and calls <see cref="Process"/> once per turn: it
/// proposes everything queued as one batch, then handles each Ready (send, persist with one sync = group commit,
/// acknowledge, apply, complete requests, serve reads). No clocks, threads or sockets: time is ticks, peers are
/// <see cref="INodeTransport"/>, the disk is <see cref="MemberStorage"/> over any <see cref="IFileSystem"/>.
/// </summary>
public sealed partial class ClusterNode
{
    private const int ReadiesPerTurnMax = 64;

    private readonly NodeOptions _options;
    private readonly MemberStorage _storage;
    private readonly MemoryStorage _log = new();
    private readonly INodeTransport _transport;
    private readonly RaftNode _raft;
    private MvccStore _store;
    private long _tick;
    private ulong _applied;
    private ulong _lastSnapshotIndex;
    private bool _snapshotInFlight;
    private long _appliedBytesSinceSnapshot; // entry bytes applied since the last snapshot's capture
    private long _lastSnapshotBytes;
    private ulong _leader;
    private long _leaderChanges;
    private long _proposalsCommitted;
    private long _proposalsFailed;
    // Configuration change entries in the log that no synced commit index covers yet (see HandleReady).
    private readonly SortedSet<ulong> _configChangesNotDurablyCommitted = [];

    public ClusterNode(NodeOptions options, MemberStorage storage, INodeTransport transport, Random random)
    {
        _options = options;
        _storage = storage;
        _transport = transport;
        var recovered = storage.Recovered;
        if (recovered.LastIndex == 0 && recovered.HardState.IsEmpty && options.InitialVoters.Count > 0)
        {
            var voters = options.InitialVoters.Order().ToArray();
            Invariant.Check(voters.Contains(options.MemberId), "a new cluster's member must be one of its voters");
            var entries = Bootstrap.InitialEntries(voters, id =>
                MemberEntries.EncodeContext(0, 0, options.InitialPeerUrls.GetValueOrDefault(id, [])));
            var hardState = Bootstrap.InitialHardState(voters);
            storage.Append(hardState, entries);
            storage.Sync();
            _log.Append(entries);
            _log.SetHardState(hardState);
            _store = new MvccStore();
        }
        else
        {
            _store = new MvccStore();
            if (!recovered.Snapshot.IsEmpty)
            {
                _store = RestoreStore(recovered.Snapshot);
                storage.ReleaseRecoveredSnapshotData(); // the keyspace holds the state; the bytes stay in their file
                _log.ApplySnapshot(storage.Recovered.Snapshot);
                _applied = recovered.Snapshot.Metadata.Index;
                _lastSnapshotIndex = _applied;
                _lastSnapshotBytes = recovered.Snapshot.Data.Length;
            }
            _log.Append(recovered.Entries);
            _log.SetHardState(recovered.HardState);
            NoteConfigChanges(recovered.Entries, recovered.HardState.Commit);
        }
        _raft = new RaftNode(options.ToRaftOptions(), _log, random, _applied);
        // Ids start at a random point per incarnation, so entries proposed before a restart never match new requests.
        _nextProposalId = (ulong)random.NextInt64();
        _nextReadId = (ulong)random.NextInt64();
    }

    public ulong MemberId => _options.MemberId;

    /// <summary>The keyspace; only the loop thread may touch it (serializable reads, hashes, status).</summary>
    public MvccStore Store => _store;

    public ulong Term => _raft.Term;

    /// <summary>
    /// Called on the loop thread with the current store just before something is about to make its recent history
    /// unreadable: a compaction is applied, or a snapshot replaces the store. A watch feed reads the events it has
    /// not published yet here, so no event is lost to either.
    /// </summary>
    public Action<MvccStore>? StoreChanging { get; set; }

    /// <summary>
    /// Runs on the loop thread after every applied write, on every member, before the waiting request completes
    /// (the host keeps member-local state such as auth tokens in step with the replicated state).
    /// </summary>
    public Action<WriteCommand, WriteOutcome>? Applied { get; set; }

    /// <summary>
    /// Host hooks around what stands in for etcd's backend commit: applying one Ready's committed entries (or an
    /// incoming snapshot) to the keyspace, and writing a keyspace snapshot every <see cref="NodeOptions.SnapshotCountEntries"/>
    /// entries. The server times the span between them (etcd_disk_backend_commit_duration_seconds); the node reads no clock.
    /// </summary>
    public Action? BackendCommitStarting { get; set; }

    /// <summary>See <see cref="BackendCommitStarting"/>.</summary>
    public Action? BackendCommitFinished { get; set; }

    /// <summary>
    /// Runs on the loop thread when the node has applied committed entries ahead of its own sync of newer ones (see
    /// <see cref="HandleReady"/>): the host may publish what was applied and send the answers now, rather than after
    /// the sync.
    /// </summary>
    public Action? AppliedAheadOfSync { get; set; }

    /// <summary>Writes the periodic keyspace snapshots (default: at once, on the node's thread).</summary>
    public ISnapshotWorker SnapshotWorker { get; set; } = InlineSnapshotWorker.Instance;

    public ulong Leader => _raft.Leader;

    public long CurrentTick => _tick;

    public int PendingRequests => _writes.Count + _readsUnrequested.Count + CountReadsInBatches() + _leaseQueries.Count;

    /// <summary>Advances logical time by one tick: Raft timers and request deadlines.</summary>
    public void Tick()
    {
        _tick++;
        _raft.Tick();
        TendAutoCompaction();
    }

    public void Step(Message message)
    {
        if (message.To != _options.MemberId)
        {
            return;
        }
        NoteCommitFromLeader(message);
        _raft.Step(message);
    }

    /// <summary>One turn's work after inputs were fed: leases, propose, handle Ready, judge forwards, expire what is overdue.</summary>
    public void Process()
    {
        TendLeases();
        ProposePending();
        ProposeMemberRequests();
        RequestReads();
        for (var i = 0; i < ReadiesPerTurnMax && _raft.HasReady; i++)
        {
            HandleReady(_raft.GetReady());
        }
        FailUnansweredForwards();
        ExpireRequests();
        TendMemberWaits();
        _transport.Flush(); // the rest of the turn's sends: forwards, answers to what the inputs asked
    }

    /// <summary>Fails everything waiting (the host is shutting down).</summary>
    public void Stop()
    {
        foreach (var write in _writes.Values)
        {
            write.Complete(WriteResult.Failed(NodeError.Stopped, _raft.Term));
        }
        _writes.Clear();
        _awaitingSync.Clear(); // promises for syncs that will not be reported
        _riding = 0;
        _unproposed.Clear();
        _awaitingAnswer.Clear();
        _writeIndexes.Clear();
        _writeDeadlines.Clear();
        FailReads(NodeError.Stopped, includeUnrequested: true);
        FailLeaseQueries(NodeError.Stopped);
        FailMemberWaits(NodeError.Stopped);
    }

    public NodeStatus GetStatus() => new(
        _options.MemberId, _raft.Leader, _raft.Role, _raft.Term, _raft.Log.Committed, _applied,
        _store.Revision, _store.CompactRevision, _store.EstimatedStoredBytes, _store.KeyCount, PendingRequests,
        _leaderChanges, _proposalsCommitted, _proposalsFailed, _raft.Config.Voters, _raft.Config.Learners, _store.Alarms, Members, IsRemoved);

    private void HandleReady(Ready ready)
    {
        if (ready.SoftState is { } soft)
        {
            OnSoftState(soft.Leader);
        }
        // A configuration change may be applied, and its commit announced, only once that commit is durable here. A
        // member that learns it was removed stops for good; if the member that told it (or any member that applied the
        // change) then crashed and came back with an older commit, it would count the removed member in its quorum
        // again and might never find one.
        NoteConfigChanges(ready.Entries, 0);
        var commitsConfigChange = ready.HardState is { } next && _configChangesNotDurablyCommitted.Count > 0 &&
                                  _configChangesNotDurablyCommitted.Min <= next.Commit;
        if (_options.SyncOffLoop)
        {
            if (!commitsConfigChange && ready.Snapshot is null && !HasConfigChange(ready.CommittedEntries))
            {
                HandleReadyOffLoop(ready);
                return;
            }
            DrainSync(); // the rest of this Ready follows what earlier ones appended, durable by then
        }
        // Messages that carry new entries leave before our own sync: followers append in parallel with it.
        var sendFirst = !commitsConfigChange && ready.Entries.Count > 0;
        if (sendFirst)
        {
            SendAndFlush(ready.Messages);
        }
        // Committed entries that this member synced in an earlier Ready (and that this one does not replace) are
        // applied and answered before this Ready's newer entries are synced, instead of one sync later: under load a
        // turn brings both, and the answers would otherwise wait for a sync that has nothing to do with them. Committed
        // means durable on a majority, so applying before this member's own sync of later entries risks nothing (a
        // leader counts itself toward a commit only once its sync is done, see RaftNode.Advance; a follower's
        // acknowledgements still leave only after its sync). Entries this Ready is about to sync, a snapshot, and
        // configuration changes keep to the order below. A Ready with no new entries and no acknowledgements (a leader's
        // commit, whose messages tell the followers of it) answers the clients first: the followers' news is not on the
        // clients' path.
        var appliedAhead = !commitsConfigChange && ready.Snapshot is not { IsEmpty: false } &&
                           ready.CommittedEntries.Count > 0 && ready.CommittedEntries[^1].Index <= _log.LastIndex &&
                           (ready.Entries.Count > 0
                               ? ready.CommittedEntries[^1].Index < ready.Entries[0].Index
                               : ready.MessagesAfterPersist.Count == 0) &&
                           !HasConfigChange(ready.CommittedEntries);
        if (appliedAhead)
        {
            ApplyCommitted(ready);
            _transport.Flush(); // whatever applying queued for peers leaves before the sync too
            AppliedAheadOfSync?.Invoke();
        }
        if (!commitsConfigChange && !sendFirst)
        {
            SendAndFlush(ready.Messages);
        }
        Persist(ready, forceSync: commitsConfigChange);
        if (commitsConfigChange)
        {
            _configChangesNotDurablyCommitted.RemoveWhere(index => index <= ready.HardState!.Value.Commit);
            foreach (var message in ready.Messages)
            {
                _transport.Send(message);
            }
        }
        foreach (var message in ready.MessagesAfterPersist)
        {
            _transport.Send(message);
        }
        _transport.Flush(); // acknowledgements leave before the committed entries are applied
        if (!appliedAhead)
        {
            ApplyCommitted(ready);
        }
        _raft.Advance(ready);
        FinishReady(ready);
    }

    private void SendAndFlush(IReadOnlyList<Message> messages)
    {
        foreach (var message in messages)
        {
            _transport.Send(message);
        }
        _transport.Flush();
    }

    /// <summary>The end of every Ready: membership news, reads whose index is known, reads now served, a snapshot if due.</summary>
    private void FinishReady(Ready ready)
    {
        NotifyMembersChanged();
        foreach (var readState in ready.ReadStates)
        {
            if (_readBatches.Remove(readState.RequestId, out var batch))
            {
                batch.Index = readState.Index;
                _readsAwaitingApply.Add(batch);
            }
        }
        ServeReads();
        MaybeSnapshot();
    }

    private static bool HasConfigChange(IReadOnlyList<Entry> entries)
    {
        foreach (var entry in entries)
        {
            if (entry.Type == EntryType.ConfigChange)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Applies <paramref name="ready"/>'s snapshot (if any) and then its committed entries to the keyspace.</summary>
    private void ApplyCommitted(Ready ready)
    {
        var applying = ready.CommittedEntries.Count > 0 || ready.Snapshot is { IsEmpty: false };
        if (applying)
        {
            BackendCommitStarting?.Invoke();
        }
        if (ready.Snapshot is { IsEmpty: false } snapshot)
        {
            StoreChanging?.Invoke(_store);
            _store = RestoreStore(snapshot);
            _applied = snapshot.Metadata.Index;
            _lastSnapshotIndex = _applied;
            _lastSnapshotBytes = snapshot.Data.Length;
            _appliedBytesSinceSnapshot = 0;
            OnMembershipApplied();
            ForgetWriteIndexesThrough(_applied);
        }
        foreach (var entry in ready.CommittedEntries)
        {
            Apply(entry);
        }
        if (applying)
        {
            BackendCommitFinished?.Invoke();
        }
    }

    /// <summary>Durable before acknowledged: one append and (when anything that matters changed) one fsync per Ready.</summary>
    private void Persist(Ready ready, bool forceSync)
    {
        var snapshot = ready.Snapshot is { IsEmpty: false } s ? s : null;
        if (snapshot is not null)
        {
            _storage.SaveSnapshot(snapshot);
        }
        if (snapshot is not null)
        {
            MarkAllDurable(); // saving it synced the WAL
        }
        if (ready.HardState is not null || ready.Entries.Count > 0)
        {
            _storage.Append(ready.HardState ?? HardState.Empty, ready.Entries);
            _appendSequence++;
            if (ready.MustSync || forceSync)
            {
                _storage.Sync();
                MarkAllDurable();
            }
        }
        if (snapshot is not null)
        {
            _log.ApplySnapshot(_storage.FileBacked(snapshot)); // written above: the log keeps only a reference to the file
        }
        _log.Append(ready.Entries);
        if (ready.HardState is { } hardState)
        {
            _log.SetHardState(hardState);
        }
    }

    private void NoteConfigChanges(IReadOnlyList<Entry> entries, ulong durableCommit)
    {
        foreach (var entry in entries)
        {
            if (entry.Type == EntryType.ConfigChange && entry.Index > durableCommit)
            {
                _configChangesNotDurablyCommitted.Add(entry.Index);
            }
        }
    }

    private void OnSoftState(ulong leader)
    {
        if (leader == _leader)
        {
            return;
        }
        if (leader != 0)
        {
            _leaderChanges++;
        }
        // ReadIndex requests in flight die with the leader that was answering them.
        FailReads(NodeError.LeaderChanged, includeUnrequested: false);
        _leader = leader;
        _leavingHandOvers = 0;
    }

    private void Apply(Entry entry)
    {
        if (entry.Index <= _applied)
        {
            return;
        }
        _applied = entry.Index;
        _appliedBytesSinceSnapshot += entry.Data.Length;
        if (entry.Type == EntryType.ConfigChange)
        {
            ApplyConfigChange(entry);
            OnIndexApplied(entry.Index, 0);
            return;
        }
        if (entry.Data.IsEmpty || MemberEntries.IsMemberEntry(entry.Data.Span))
        {
            if (!entry.Data.IsEmpty)
            {
                ApplyMemberEntry(entry);
            }
            OnIndexApplied(entry.Index, 0);
            return;
        }
        Proposal proposal;
        try
        {
            proposal = Proposal.Decode(entry.Data.Span);
        }
        catch (FormatException)
        {
            // Every member skips the same malformed entry the same way; the state stays identical.
            OnIndexApplied(entry.Index, 0);
            return;
        }
        if (proposal.Command.Kind == WriteCommandKind.Compaction)
        {
            StoreChanging?.Invoke(_store);
        }
        var outcome = _store.Apply(proposal.Command);
        OnLeaseCommandApplied(proposal, outcome);
        _proposalsCommitted++;
        Applied?.Invoke(proposal.Command, outcome);
        if (proposal.Origin == _options.MemberId)
        {
            OnIndexApplied(entry.Index, proposal.ProposalId);
            if (_writes.Remove(proposal.ProposalId, out var write))
            {
                _awaitingAnswer.Remove(proposal.ProposalId);
                write.Complete(new WriteResult(NodeError.None, outcome, _raft.Term));
            }
        }
        else
        {
            OnIndexApplied(entry.Index, 0);
        }
    }

    /// <summary>
    /// Compacts this member's storage now (etcd's Defragment, per member): a snapshot of the keyspace at the applied
    /// index, then the WAL segments and log entries it covers are released. Nothing to do if nothing was applied since
    /// the last snapshot. Returns the WAL segments before and after.
    /// </summary>
    public (int SegmentsBefore, int SegmentsAfter) CompactStorage()
    {
        var before = _storage.Wal.SegmentCount;
        if (_applied > _lastSnapshotIndex)
        {
            MaybeSnapshot(force: true);
        }
        return (before, _storage.Wal.SegmentCount);
    }

    /// <summary>
    /// Every <see cref="NodeOptions.SnapshotCountEntries"/> applied entries while the keyspace is small (see
    /// <see cref="NodeOptions.SnapshotCountGateBytes"/>), or by log bytes (<see cref="NodeOptions.SnapshotLogBytesMin"/>, half the last snapshot, at
    /// most <see cref="NodeOptions.SnapshotLogBytesMax"/>): captures the keyspace here and lets the
    /// <see cref="SnapshotWorker"/> write it; once the file is durable, the WAL gets its marker and releases what it
    /// covers, and the in-memory log is compacted (see <see cref="FinishSnapshot"/>). One at a time. A forced snapshot
    /// (<see cref="CompactStorage"/>) is written at once, on this thread.
    /// </summary>
    private void MaybeSnapshot(bool force = false)
    {
        var dueByCount = _applied >= _lastSnapshotIndex + _options.SnapshotCountEntries && _lastSnapshotBytes < _options.SnapshotCountGateBytes;
        var dueByBytes = _appliedBytesSinceSnapshot >= Math.Max(_options.SnapshotLogBytesMin, Math.Min(_lastSnapshotBytes / 2, _options.SnapshotLogBytesMax));
        var due = dueByCount || dueByBytes;
        if ((!force && (_snapshotInFlight || !due)) || _applied == _lastSnapshotIndex || !_log.TryGetTerm(_applied, out var term))
        {
            return;
        }
        var metadata = new SnapshotMetadata(_applied, term, _raft.Config);
        BackendCommitStarting?.Invoke();
        var frozen = _store.FreezeSnapshot();
        BackendCommitFinished?.Invoke();
        _appliedBytesSinceSnapshot = 0;
        if (force)
        {
            FinishSnapshot(_storage.WriteSnapshotFile(metadata, frozen.Length, frozen.WriteTo));
            return;
        }
        _snapshotInFlight = true;
        Snapshot? written = null;
        SnapshotWorker.Run(
            () => written = _storage.WriteSnapshotFile(metadata, frozen.Length, frozen.WriteTo), // streamed: no copy in memory
            failure =>
            {
                _snapshotInFlight = false;
                if (failure is not null)
                {
                    // As a failed WAL write: the disk cannot be trusted, and the node stops (the error as thrown).
                    ExceptionDispatchInfo.Capture(failure).Throw();
                }
                FinishSnapshot(written!);
            });
    }

    /// <summary>The snapshot file is durable: mark it in the WAL, release what it covers, compact the in-memory log.</summary>
    private void FinishSnapshot(Snapshot snapshot)
    {
        var index = snapshot.Metadata.Index;
        // The marker's sync (which also syncs whatever is pending) follows every entry the snapshot covers: applied entries
        // may be in the batch in flight, which is finished first.
        FinishBatchInFlight();
        if (!_storage.CommitSnapshot(snapshot))
        {
            StartSync(); // nothing was synced: what was appended after the finished batch goes to the syncer as usual
            return; // overtaken by a newer snapshot (installed from the leader, or forced meanwhile)
        }
        MarkAllDurable(); // the marker's sync covered every append
        if (index <= _log.Snapshot.Metadata.Index)
        {
            return;
        }
        var keepFrom = index > _options.SnapshotCatchUpEntries ? index - _options.SnapshotCatchUpEntries : 0;
        _log.CreateSnapshot(snapshot, Math.Max(_log.FirstIndex - 1, keepFrom)); // file-backed: the bytes stay in the file
        _lastSnapshotIndex = Math.Max(_lastSnapshotIndex, index);
        _lastSnapshotBytes = snapshot.Data.Length;
    }

    private static MvccStore RestoreStore(Snapshot snapshot)
    {
        var restored = MvccStore.Restore(snapshot.Data.Span);
        Invariant.Check(restored.IsSuccess, $"snapshot at index {snapshot.Metadata.Index} does not restore: {restored.ErrorMessage}");
        return restored.Value!;
    }
}
