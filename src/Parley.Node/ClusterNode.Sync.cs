using Parley.Raft;
using Parley.Storage;

namespace Parley.Node;

/// <summary>
/// The WAL's syncs off the node's thread (<see cref="NodeOptions.SyncOffLoop"/>, ADR 0005). Each Ready's records are
/// appended at once; one batch at a time is written and synced by the <see cref="WalSyncer"/> while the node goes on.
/// What a Ready promises (its acknowledgements and votes, the leader counting its own entries) waits in FIFO order for
/// the sync that covers it. Every append is numbered; a sync covers every append made before it started.
/// </summary>
public sealed partial class ClusterNode
{
    private readonly Queue<AwaitingSync> _awaitingSync = new();
    private InFlightSync? _syncInFlight;
    private int _riding;            // how many of the first _awaitingSync entries had their messages sent with their sync
    private long _appendSequence;   // appends made to the WAL
    private long _mustSyncSequence; // the newest append that must be durable before what follows it is promised
    private long _durableSequence;  // the newest append known durable

    /// <summary>Writes and syncs the WAL's batches when <see cref="NodeOptions.SyncOffLoop"/> is on (default: at once, on the node's thread).</summary>
    public IWalSyncer WalSyncer { get; set; } = InlineWalSyncer.Instance;

    /// <summary>Whether a WAL batch is being written and synced (<see cref="NodeOptions.SyncOffLoop"/>).</summary>
    public bool SyncInFlight => _syncInFlight is not null;

    /// <summary>What one Ready promised, waiting for the sync of append <paramref name="Sequence"/>.</summary>
    private readonly record struct AwaitingSync(long Sequence, IReadOnlyList<Message> Messages, ulong Index, ulong Term);

    /// <summary>
    /// A batch being written and synced, the newest append it covers, and the messages that wait only for it. Those
    /// leave from the syncer's thread as soon as the batch is durable, without waiting for the node's next turn; if the
    /// node finishes the batch itself first (<see cref="FinishBatchInFlight"/>), it sends them. Whoever takes them sends them.
    /// </summary>
    private sealed class InFlightSync(WalBatch batch, long sequence, List<Message>? riding)
    {
        private List<Message>? _riding = riding;

        public WalBatch Batch { get; } = batch;

        public long Sequence { get; } = sequence;

        public List<Message>? TakeRiding() => Interlocked.Exchange(ref _riding, null);
    }

    /// <summary>
    /// A Ready without a snapshot, without a configuration change to commit or apply: sent, appended, handed to the
    /// syncer, applied. Committed entries are applied before this member's own sync of them: committed means durable
    /// on a majority (a leader counts itself only once its sync is done), the keyspace lives in memory and is rebuilt
    /// from the WAL and snapshots, and a snapshot's WAL marker is synced after every entry it covers (the marker's sync
    /// waits for the batch in flight, see <see cref="FinishSnapshot"/>).
    /// </summary>
    private void HandleReadyOffLoop(Ready ready)
    {
        foreach (var message in ready.Messages)
        {
            _transport.Send(message);
        }
        _transport.Flush(); // out before our own sync: followers append in parallel with it
        if (ready.HardState is not null || ready.Entries.Count > 0)
        {
            _storage.Append(ready.HardState ?? HardState.Empty, ready.Entries);
            _appendSequence++;
            if (ready.MustSync)
            {
                _mustSyncSequence = _appendSequence;
            }
        }
        _log.Append(ready.Entries);
        if (ready.HardState is { } hardState)
        {
            _log.SetHardState(hardState);
        }
        if (_mustSyncSequence > _durableSequence && (ready.MessagesAfterPersist.Count > 0 || ready.Entries.Count > 0))
        {
            var (index, term) = ready.Entries.Count > 0 ? (ready.Entries[^1].Index, ready.Entries[^1].Term) : (0UL, 0UL);
            _awaitingSync.Enqueue(new AwaitingSync(_mustSyncSequence, ready.MessagesAfterPersist, index, term));
        }
        else
        {
            foreach (var message in ready.MessagesAfterPersist)
            {
                _transport.Send(message); // nothing it follows waits for a sync
            }
            _transport.Flush();
        }
        StartSync(); // the batch is written while the committed entries are applied
        ApplyCommitted(ready);
        _raft.AdvanceWritten(ready);
        FinishReady(ready);
    }

    /// <summary>Hands what was appended to the syncer, when something needs it and no batch is in flight.</summary>
    private void StartSync()
    {
        if (_syncInFlight is not null || _mustSyncSequence <= _durableSequence)
        {
            return;
        }
        var batch = _storage.Wal.BeginSync();
        if (batch is null)
        {
            MarkAllDurable(); // a synchronous sync covered it
            return;
        }
        // Every entry waiting now waits for this batch (each was enqueued after its append): its messages ride with it.
        List<Message>? riding = null;
        foreach (var awaiting in _awaitingSync)
        {
            (riding ??= []).AddRange(awaiting.Messages);
        }
        _riding = _awaitingSync.Count;
        var sync = new InFlightSync(batch, _appendSequence, riding);
        _syncInFlight = sync;
        WalSyncer.Start(() =>
        {
            batch.Run();
            if (batch.IsDurable)
            {
                SendRiding(sync);
            }
        }, () => OnSyncCompleted(sync));
    }

    private void SendRiding(InFlightSync sync)
    {
        if (sync.TakeRiding() is { } riding)
        {
            foreach (var message in riding)
            {
                _transport.Send(message); // on the syncer's thread, a send goes out at once (no Flush: that is the loop's)
            }
        }
    }

    /// <summary>The syncer finished <paramref name="sync"/> (ignored if the node finished it already, see <see cref="FinishBatchInFlight"/>).</summary>
    private void OnSyncCompleted(InFlightSync sync)
    {
        if (_syncInFlight != sync)
        {
            return;
        }
        FinishSyncInFlight();
        StartSync();
    }

    /// <summary>
    /// Before the inline path: waits for the batch in flight, if any, then syncs here what was appended after it and must
    /// be durable, and releases what waited. Afterwards every append that needs it is durable, so messages the inline
    /// path sends after its own sync promise nothing that is not.
    /// </summary>
    private void DrainSync()
    {
        FinishBatchInFlight();
        if (_mustSyncSequence > _durableSequence)
        {
            _storage.Sync();
            MarkAllDurable();
        }
    }

    /// <summary>Waits for the batch in flight, if any (or runs it here if the syncer has not started it), and releases what waited on it.</summary>
    private void FinishBatchInFlight()
    {
        if (_syncInFlight is { } sync)
        {
            sync.Batch.Run();
            FinishSyncInFlight();
        }
    }

    private void FinishSyncInFlight()
    {
        var sync = _syncInFlight!;
        _syncInFlight = null;
        _storage.Wal.EndSync(sync.Batch); // throws if the write or sync failed: the node stops
        SendRiding(sync); // unless the syncer did
        _durableSequence = sync.Sequence;
        ReleaseDurable();
    }

    /// <summary>After a synchronous sync (it covers every append so far).</summary>
    private void MarkAllDurable()
    {
        _durableSequence = _appendSequence;
        ReleaseDurable();
    }

    /// <summary>Sends what waited for the syncs done so far, in order, and tells Raft which of its entries are durable.</summary>
    private void ReleaseDurable()
    {
        if (_awaitingSync.Count == 0)
        {
            return;
        }
        while (_awaitingSync.TryPeek(out var awaiting) && awaiting.Sequence <= _durableSequence)
        {
            _awaitingSync.Dequeue();
            if (_riding > 0)
            {
                _riding--; // its messages left with its sync
            }
            else
            {
                foreach (var message in awaiting.Messages)
                {
                    _transport.Send(message);
                }
            }
            if (awaiting.Index > 0)
            {
                _raft.Persisted(awaiting.Index, awaiting.Term);
            }
        }
        _transport.Flush();
    }
}
