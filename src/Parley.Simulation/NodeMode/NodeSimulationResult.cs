namespace Parley.Simulation.NodeMode;

/// <summary>How one node-level seed's run ended, with enough to reproduce and understand a failure.</summary>
public sealed record NodeSimulationResult
{
    public required ulong Seed { get; init; }
    public required NodeSimulationParameters Parameters { get; init; }
    /// <summary>Null when every invariant held and the cluster converged.</summary>
    public string? Violation { get; init; }
    public string ViolationKind { get; init; } = "";
    public string TraceTail { get; init; } = "";
    public long VirtualMicros { get; init; }
    public long Events { get; init; }
    public long MessagesSent { get; init; }
    public int OperationsCompleted { get; init; }
    public int OperationsTimedOut { get; init; }
    public int WritesAcknowledged { get; init; }
    public int ReadsChecked { get; init; }
    public int Crashes { get; init; }
    /// <summary>Bits flipped in a crashed member's stored data.</summary>
    public int Flips { get; init; }
    /// <summary>Flips after which the member refused to start (quarantined).</summary>
    public int FlipsRefused { get; init; }
    /// <summary>Flips after which recovery read back the stored state intact (the flip hit nothing that matters, or a
    /// copy of it that recovery could do without).</summary>
    public int FlipsHarmless { get; init; }
    public int Partitions { get; init; }
    /// <summary>Membership requests the operator sent (member add --learner, promote, remove, update).</summary>
    public int MembershipRequests { get; init; }
    /// <summary>Requests whose verdict said applied, and whose verdict was a refusal (both checked against the membership).</summary>
    public int MembershipApplied { get; init; }
    public int MembershipRefused { get; init; }
    public int LearnersAdded { get; init; }
    public int Promotions { get; init; }
    public int Removals { get; init; }
    /// <summary>Removals the operator aimed at the leader.</summary>
    public int LeaderRemovals { get; init; }
    /// <summary>Removals of a member that will never run again (quarantined), the first step of replacing it.</summary>
    public int Replacements { get; init; }
    public int PeerUrlUpdates { get; init; }
    /// <summary>Fresh members started with an empty disk to join.</summary>
    public int Joiners { get; init; }
    /// <summary>Members that applied their own removal and were stopped for good.</summary>
    public int MembersRetired { get; init; }
    /// <summary>Members still running at the end that applied their own removal but were never told by a leader that
    /// it committed (they wait, harmlessly: the new membership no longer sends to them).</summary>
    public int RemovedUnconfirmed { get; init; }
    public int Transfers { get; init; }
    public int TransfersCompleted { get; init; }
    public int LeaderElections { get; init; }
    public long FileSyncs { get; init; }

    public bool Passed => Violation is null;
}
