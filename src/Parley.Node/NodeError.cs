namespace Parley.Node;

/// <summary>Why the node could not complete a request (MVCC errors travel separately, in the outcome).</summary>
public enum NodeError : byte
{
    None = 0,
    NoLeader,
    LeaderChanged,
    TimedOut,
    TooManyRequests,
    Stopped,
}
