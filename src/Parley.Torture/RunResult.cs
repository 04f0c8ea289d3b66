using Parley.Checker.Search;

namespace Parley.Torture;

/// <summary>What one run did and found.</summary>
public sealed record RunResult
{
    public required int Number { get; init; }

    public required int Members { get; init; }

    /// <summary>The members at the end of the run (names); differs from m1..mN after membership changes.</summary>
    public IReadOnlyList<string> FinalMembers { get; init; } = [];

    public required string Folder { get; init; }

    /// <summary>How the run's network faults were made real (netns or proxy).</summary>
    public NetworkMode Network { get; init; } = NetworkMode.Proxy;

    public TimeSpan Elapsed { get; init; }

    public int Operations { get; init; }

    public int Acknowledged { get; init; }

    public int Unknown { get; init; }

    /// <summary>Unknown outcomes resolved from the store's history (applied at a revision, or never).</summary>
    public int Resolved { get; init; }

    /// <summary>Events delivered to the run's watchers (each checked: ordered, unique, complete, atomic, correct).</summary>
    public int WatchedEvents { get; init; }

    /// <summary>The lock users' acquisitions and guarded writes (each checked against the store's history).</summary>
    public LockSummary Locks { get; init; } = LockSummary.None;

    /// <summary>What the membership nemesis did (members replaced, leaders moved).</summary>
    public MembershipSummary Membership { get; init; } = MembershipSummary.None;

    public IReadOnlyDictionary<FaultKind, int> Faults { get; init; } = new Dictionary<FaultKind, int>();

    /// <summary>The linearizability verdict; null when not checked (crash mode, or the run failed before).</summary>
    public Verdict? Linearizability { get; init; }

    /// <summary>Every anomaly found, one line each ("not linearizable", "lost write ...", "hash mismatch ...").</summary>
    public IReadOnlyList<string> Anomalies { get; init; } = [];

    public bool Kept { get; init; }
}
