namespace Parley.Mvcc;

/// <summary>
/// Request ids already applied, with their outcomes, in application order. Bounded twice: entries
/// older than the retention (in the commands' logical time) expire, and past the count bound the
/// oldest goes. Both are decided by replicated inputs only, so every member holds the same table.
/// </summary>
internal sealed class RecordedRequestTable
{
    private readonly Dictionary<string, RecordedRequest> _byId = new(StringComparer.Ordinal);
    private readonly Queue<RecordedRequest> _inOrder = new();
    private readonly int _countMax;
    private readonly long _retention;

    public RecordedRequestTable(int countMax, long retention)
    {
        _countMax = countMax;
        _retention = retention;
    }

    public int Count => _byId.Count;

    public IEnumerable<RecordedRequest> InOrder => _inOrder;

    public bool TryGet(string requestId, out WriteOutcome outcome)
    {
        if (_byId.TryGetValue(requestId, out RecordedRequest? recorded))
        {
            outcome = recorded.Outcome;
            return true;
        }
        outcome = null!;
        return false;
    }

    /// <summary>Drops entries whose retention ended at logicalTime.</summary>
    public void Expire(long logicalTime)
    {
        while (_inOrder.TryPeek(out RecordedRequest? oldest) && logicalTime - oldest.LogicalTime >= _retention)
        {
            Remove();
        }
    }

    public void Add(RecordedRequest recorded)
    {
        Invariant.Check(!_byId.ContainsKey(recorded.RequestId), "a request id is recorded once");
        while (_byId.Count >= _countMax)
        {
            Remove();
        }
        _byId.Add(recorded.RequestId, recorded);
        _inOrder.Enqueue(recorded);
    }

    public void Clear()
    {
        _byId.Clear();
        _inOrder.Clear();
    }

    private void Remove()
    {
        RecordedRequest oldest = _inOrder.Dequeue();
        _byId.Remove(oldest.RequestId);
    }
}
