using Parley.Mvcc;

namespace Parley.Node;

public sealed partial class ClusterNode
{
    private readonly List<PendingRead> _readsUnrequested = [];
    private readonly Dictionary<ulong, ReadBatch> _readBatches = [];
    private readonly List<ReadBatch> _readsAwaitingApply = [];
    private ulong _nextReadId;
    private long _lastExpiryTick = -1;

    /// <summary>
    /// Queues a linearizable range: every range queued this turn shares one ReadIndex; each is served from the
    /// local keyspace once this member has applied up to the confirmed index. Works on followers.
    /// </summary>
    public void SubmitRead(RangeRequest request, Action<ReadResult> complete)
    {
        if (IsOverloaded())
        {
            complete(ReadResult.Failed(NodeError.TooManyRequests, _raft.Term));
            return;
        }
        if (_options.UnsafeStaleLocalReads)
        {
            complete(new ReadResult(NodeError.None, _store.Range(request), _raft.Term)); // the injected bug: no ReadIndex
            return;
        }
        _readsUnrequested.Add(new PendingRead(request, complete, _tick + _options.RequestTimeoutTicks));
    }

    private void RequestReads()
    {
        if (_readsUnrequested.Count == 0)
        {
            return;
        }
        var id = _nextReadId++;
        if (!_raft.ReadIndex(id))
        {
            return; // no leader yet: try again next turn, until the deadline
        }
        _readBatches[id] = new ReadBatch([.. _readsUnrequested]);
        _readsUnrequested.Clear();
    }

    private void ServeReads()
    {
        for (var i = _readsAwaitingApply.Count - 1; i >= 0; i--)
        {
            var batch = _readsAwaitingApply[i];
            if (batch.Index > _applied)
            {
                continue;
            }
            _readsAwaitingApply.RemoveAt(i);
            foreach (var read in batch.Reads)
            {
                read.Complete(new ReadResult(NodeError.None, _store.Range(read.Request), _raft.Term));
            }
        }
    }

    private void ExpireRequests()
    {
        ExpireWrites();
        if (_tick == _lastExpiryTick)
        {
            return;
        }
        _lastExpiryTick = _tick;
        var error = _raft.Leader == 0 ? NodeError.NoLeader : NodeError.TimedOut;
        _readsUnrequested.RemoveAll(read => Expire(read, error));
        foreach (var batch in _readBatches.Values)
        {
            batch.Reads.RemoveAll(read => Expire(read, error));
        }
        foreach (var batch in _readsAwaitingApply)
        {
            batch.Reads.RemoveAll(read => Expire(read, NodeError.TimedOut));
        }
    }

    private bool Expire(PendingRead read, NodeError error)
    {
        if (read.DeadlineTick > _tick)
        {
            return false;
        }
        read.Complete(ReadResult.Failed(error, _raft.Term));
        return true;
    }

    private void FailReads(NodeError error, bool includeUnrequested)
    {
        foreach (var batch in _readBatches.Values)
        {
            foreach (var read in batch.Reads)
            {
                read.Complete(ReadResult.Failed(error, _raft.Term));
            }
        }
        _readBatches.Clear();
        if (includeUnrequested)
        {
            foreach (var read in _readsUnrequested)
            {
                read.Complete(ReadResult.Failed(error, _raft.Term));
            }
            _readsUnrequested.Clear();
            foreach (var batch in _readsAwaitingApply)
            {
                foreach (var read in batch.Reads)
                {
                    read.Complete(ReadResult.Failed(error, _raft.Term));
                }
            }
            _readsAwaitingApply.Clear();
        }
    }

    private int CountReadsInBatches()
    {
        var count = 0;
        foreach (var batch in _readBatches.Values)
        {
            count += batch.Reads.Count;
        }
        foreach (var batch in _readsAwaitingApply)
        {
            count += batch.Reads.Count;
        }
        return count;
    }
}
