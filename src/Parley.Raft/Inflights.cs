namespace Parley.Raft;

/// <summary>
/// The appends sent to one follower and not yet acknowledged: a bounded window, by message count and by
/// bytes, so that a slow follower cannot make the leader buffer without limit.
/// </summary>
public sealed class Inflights
{
    private readonly Queue<(ulong LastIndex, long Bytes)> _messages = new();
    private readonly int _messagesMax;
    private readonly long _bytesMax;
    private long _bytes;

    public Inflights(int messagesMax, long bytesMax)
    {
        Invariant.Check(messagesMax > 0 && bytesMax > 0, "inflight bounds must be positive");
        _messagesMax = messagesMax;
        _bytesMax = bytesMax;
    }

    public int Count => _messages.Count;

    public bool IsFull => _messages.Count >= _messagesMax || _bytes >= _bytesMax;

    public void Add(ulong lastIndex, long bytes)
    {
        Invariant.Check(!IsFull, "inflight window overflow");
        _messages.Enqueue((lastIndex, bytes));
        _bytes += bytes;
    }

    /// <summary>Frees every message whose last index is at or below the acknowledged one.</summary>
    public void FreeUpTo(ulong index)
    {
        while (_messages.Count > 0 && _messages.Peek().LastIndex <= index)
        {
            _bytes -= _messages.Dequeue().Bytes;
        }
    }

    public void Reset()
    {
        _messages.Clear();
        _bytes = 0;
    }
}
