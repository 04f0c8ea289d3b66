using Parley.Mvcc;
using Parley.Node;

namespace Parley.Server.Watch;

/// <summary>
/// The member's stream of applied revisions for watchers (and for server-side waits such as Lock and Election).
/// <para>
/// Publishing (loop thread only): after each loop turn in which the store's revision advanced, and just before a
/// compaction or a snapshot install could make recent history unreadable (<see cref="ClusterNode.StoreChanging"/>),
/// <see cref="Publish"/> reads the new events once, for all keys and with their previous values, and appends them
/// to a bounded in-memory ring of immutable per-revision batches (the "synced" path). Nothing is read while nobody
/// is attached (<see cref="Attach"/>): then the ring stays empty and readers use history.
/// </para>
/// <para>
/// Reading (any thread): <see cref="ReadAsync"/> returns the events of a key range from a revision on, in revision
/// order, never splitting a revision, bounded per call; from the ring when it still covers the revision, otherwise
/// from the store's history through the loop (<see cref="NodeLoop.QueryAsync{T}"/>, the "unsynced" path, as etcd's
/// synced/unsynced watcher groups). A reader that falls behind the ring therefore catches up from history and never
/// misses or repeats an event; a start below the compact revision fails with <see cref="MvccError.Compacted"/>.
/// <see cref="WaitForRevisionAsync"/> completes once <see cref="Revision"/> reaches a revision.
/// </para>
/// Events from the ring always carry <see cref="MvccEvent.PrevKv"/>; readers that did not ask ignore it.
/// </summary>
internal sealed class RevisionFeed
{
    public const int RingRevisionsMax = 65_536;
    public const int RingEventsMax = 262_144;
    public const long RingBytesMax = 64L * 1024 * 1024;

    /// <summary>Change-log entries one history read may look at on the loop thread (keeps the loop turn short).</summary>
    public const int HistoryChangesScannedMax = 16_384;

    /// <summary>Events one ring read may look at under the lock.</summary>
    public const int RingEventsScannedMax = 16_384;

    private readonly Func<EventQuery, Task<(EventReadResult Result, List<MvccEvent> Events)>> _readHistoryAsync;
    private readonly Lock _lock = new();
    private readonly RevisionEvents?[] _ring;
    private int _ringHead;
    private int _ringCount;
    private long _ringEvents;
    private long _ringBytes;
    private long _revision;
    private long _coveredFromRevision; // every event with a revision in [this, _revision] is in the ring
    private bool _stopped;
    private int _attached;
    private TaskCompletionSource _changed = NewSignal();

    /// <param name="revision">The store's revision when the feed starts (nothing published yet).</param>
    /// <param name="readHistoryAsync">Runs <see cref="MvccStore.ReadEvents"/> on the loop thread.</param>
    /// <param name="ringRevisionsMax">Revisions the ring holds at most (tests make it small).</param>
    public RevisionFeed(long revision, Func<EventQuery, Task<(EventReadResult Result, List<MvccEvent> Events)>> readHistoryAsync, int ringRevisionsMax = RingRevisionsMax)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ringRevisionsMax, 1);
        _ring = new RevisionEvents?[ringRevisionsMax];
        _readHistoryAsync = readHistoryAsync;
        _revision = revision;
        _coveredFromRevision = revision + 1;
    }

    /// <summary>The newest published revision: every event up to it can be read.</summary>
    public long Revision
    {
        get
        {
            lock (_lock)
            {
                return _revision;
            }
        }
    }

    /// <summary>Readers attached now (watch streams and server-side waits).</summary>
    public int AttachedCount => Volatile.Read(ref _attached);

    /// <summary>Completes at the next publish (or stop); a reader awaits it together with its other inputs.</summary>
    public Task Changed
    {
        get
        {
            lock (_lock)
            {
                return _changed.Task;
            }
        }
    }

    /// <summary>Keeps the ring filled while the returned handle lives; readers attach before their first read.</summary>
    public IDisposable Attach()
    {
        Interlocked.Increment(ref _attached);
        return new Attachment(this);
    }

    /// <summary>Completes when <see cref="Revision"/> ≥ revisionMin; fails with "server stopped" when the member stops.</summary>
    public async Task WaitForRevisionAsync(long revisionMin, CancellationToken cancellation)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_revision >= revisionMin)
                {
                    return;
                }
                ThrowIfStopped();
                changed = _changed.Task;
            }
            await changed.WaitAsync(cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Events of query's key range from query.StartRevision on (bounded by the query's EventsMax and EventBytesMax,
    /// and per call by <see cref="RingEventsScannedMax"/> / <see cref="HistoryChangesScannedMax"/>); the result's
    /// NextRevision is where to continue (a revision above <see cref="Revision"/> means "wait for it").
    /// </summary>
    public async Task<FeedRead> ReadAsync(EventQuery query, CancellationToken cancellation)
    {
        var events = new List<MvccEvent>();
        if (TryReadRing(query, events, out var nextRevision))
        {
            return new FeedRead(new EventReadResult(MvccError.None, nextRevision, 0), events, FromHistory: false);
        }
        var bounded = query with { ChangesScannedMax = Math.Min(query.ChangesScannedMax, HistoryChangesScannedMax) };
        var (result, history) = await _readHistoryAsync(bounded).WaitAsync(cancellation).ConfigureAwait(false);
        return new FeedRead(result, history, FromHistory: true);
    }

    /// <summary>
    /// Loop thread only: publishes every event the store applied since the last publish. Also the target of
    /// <see cref="ClusterNode.StoreChanging"/>, so it runs with the old store before a compaction or snapshot install.
    /// </summary>
    public void Publish(MvccStore store)
    {
        var target = store.Revision;
        long published;
        lock (_lock)
        {
            published = _revision;
        }
        if (target == published)
        {
            return;
        }
        if (target < published || AttachedCount == 0)
        {
            // Nobody reads (or the store went back, which Raft never does): skip the work, readers use history.
            Reset(target);
            return;
        }
        var events = new List<MvccEvent>();
        var result = store.ReadEvents(new EventQuery(published + 1, null, null, PrevKv: true, EventsMax: int.MaxValue), events);
        if (result.Error != MvccError.None)
        {
            // A snapshot from a member that compacted past what we published: those revisions exist only as history,
            // where a reader that needs them learns the compact revision.
            Reset(target);
            return;
        }
        Append(Group(events), target);
    }

    /// <summary>Loop thread, when the member stops: waiting readers fail with "server stopped".</summary>
    public void Stop()
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _stopped = true;
            changed = _changed;
            _changed = NewSignal();
        }
        changed.TrySetResult();
    }

    private bool TryReadRing(EventQuery query, List<MvccEvent> events, out long nextRevision)
    {
        lock (_lock)
        {
            ThrowIfStopped();
            var from = query.StartRevision;
            nextRevision = from;
            if (from > _revision)
            {
                return true;
            }
            if (from < _coveredFromRevision)
            {
                return false;
            }
            long bytes = 0;
            var scanned = 0;
            for (var offset = FirstOffsetAtOrAfter(from); offset < _ringCount; offset++)
            {
                var batch = At(offset);
                if (events.Count >= query.EventsMax || bytes >= query.EventBytesMax || scanned >= Math.Min(query.ChangesScannedMax, RingEventsScannedMax))
                {
                    nextRevision = batch.Revision;
                    return true;
                }
                foreach (var mvccEvent in batch.Events)
                {
                    scanned++;
                    if (query.Matches(mvccEvent.Kv.Key))
                    {
                        events.Add(mvccEvent);
                        bytes += EventQuery.EventBytes(mvccEvent);
                    }
                }
            }
            nextRevision = _revision + 1;
            return true;
        }
    }

    private int FirstOffsetAtOrAfter(long revision)
    {
        int low = 0, high = _ringCount - 1;
        while (low <= high)
        {
            var middle = low + ((high - low) >> 1);
            if (At(middle).Revision < revision)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }
        return low;
    }

    private RevisionEvents At(int offset) => _ring[(_ringHead + offset) % _ring.Length]!;

    private static List<RevisionEvents> Group(List<MvccEvent> events)
    {
        var batches = new List<RevisionEvents>();
        var start = 0;
        while (start < events.Count)
        {
            var revision = events[start].Kv.ModRevision;
            var end = start;
            long bytes = 0;
            while (end < events.Count && events[end].Kv.ModRevision == revision)
            {
                bytes += EventQuery.EventBytes(events[end]);
                end++;
            }
            batches.Add(new RevisionEvents(revision, events.GetRange(start, end - start).ToArray(), bytes));
            start = end;
        }
        return batches;
    }

    private void Append(List<RevisionEvents> batches, long target)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            foreach (var batch in batches)
            {
                Invariant(_ringCount == 0 || batch.Revision > At(_ringCount - 1).Revision, "feed batches are in revision order");
                if (_ringCount == _ring.Length)
                {
                    DropOldest();
                }
                _ring[(_ringHead + _ringCount) % _ring.Length] = batch;
                _ringCount++;
                _ringEvents += batch.Events.Length;
                _ringBytes += batch.Bytes;
            }
            while (_ringCount > 0 && (_ringEvents > RingEventsMax || _ringBytes > RingBytesMax))
            {
                DropOldest();
            }
            if (_ringCount == 0)
            {
                _coveredFromRevision = target + 1;
            }
            _revision = target;
            changed = _changed;
            _changed = NewSignal();
        }
        changed.TrySetResult();
    }

    private void DropOldest()
    {
        var oldest = _ring[_ringHead]!;
        _ring[_ringHead] = null;
        _ringHead = (_ringHead + 1) % _ring.Length;
        _ringCount--;
        _ringEvents -= oldest.Events.Length;
        _ringBytes -= oldest.Bytes;
        _coveredFromRevision = oldest.Revision + 1;
    }

    private void Reset(long target)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            while (_ringCount > 0)
            {
                DropOldest();
            }
            _revision = target;
            _coveredFromRevision = target + 1;
            changed = _changed;
            _changed = NewSignal();
        }
        changed.TrySetResult();
    }

    private void ThrowIfStopped()
    {
        if (_stopped)
        {
            throw new NodeUnavailableException(NodeError.Stopped);
        }
    }

    private static void Invariant(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException("invariant violated: " + what);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Attachment(RevisionFeed feed) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref feed._attached);
            }
        }
    }

    private sealed record RevisionEvents(long Revision, MvccEvent[] Events, long Bytes);
}

/// <summary>One <see cref="RevisionFeed.ReadAsync"/> result: an error (compacted start) or events and where to continue.</summary>
internal sealed record FeedRead(EventReadResult Result, List<MvccEvent> Events, bool FromHistory);
