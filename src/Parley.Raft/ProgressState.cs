namespace Parley.Raft;

/// <summary>How the leader replicates to one follower.</summary>
public enum ProgressState : byte
{
    /// <summary>One append at a time until the match point is found.</summary>
    Probe,
    /// <summary>Optimistic pipelined appends within the inflight window.</summary>
    Replicate,
    /// <summary>A snapshot is on its way; no appends until it is acknowledged.</summary>
    Snapshot,
}
