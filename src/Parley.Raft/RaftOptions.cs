namespace Parley.Raft;

/// <summary>Settings of one member's consensus core. Times are in ticks; bounds carry their unit last.</summary>
public sealed record RaftOptions
{
    public required ulong Id { get; init; }

    /// <summary>A follower that hears no leader for this long (randomized up to twice it) starts an election.</summary>
    public int ElectionTimeoutTicks { get; init; } = 10;

    public int HeartbeatIntervalTicks { get; init; } = 1;

    public bool PreVote { get; init; } = true;

    /// <summary>A leader that has not heard from a quorum for an election timeout steps down.</summary>
    public bool CheckQuorum { get; init; } = true;

    public int EntriesPerMessageMax { get; init; } = 1024;

    public long BytesPerMessageMax { get; init; } = 1 << 20;

    public int InflightMessagesMax { get; init; } = 256;

    public long InflightBytesMax { get; init; } = 64L << 20;

    /// <summary>Proposals beyond this many uncommitted payload bytes on the leader are refused.</summary>
    public long UncommittedBytesMax { get; init; } = 64L << 20;

    /// <summary>Bytes of committed entries handed to the application in one <see cref="Ready"/>.</summary>
    public long CommittedBytesPerReadyMax { get; init; } = 16L << 20;

    public RaftBugs Bugs { get; init; } = RaftBugs.None;

    public void Validate()
    {
        Invariant.Check(Id != 0, "member id must be non-zero");
        Invariant.Check(HeartbeatIntervalTicks > 0, "heartbeat interval must be positive");
        Invariant.Check(ElectionTimeoutTicks > HeartbeatIntervalTicks, "election timeout must exceed the heartbeat interval");
        Invariant.Check(EntriesPerMessageMax > 0 && BytesPerMessageMax > 0, "message bounds must be positive");
        Invariant.Check(UncommittedBytesMax > 0 && CommittedBytesPerReadyMax > 0, "byte bounds must be positive");
    }
}
