namespace Parley.Torture;

/// <summary>What <c>parley torture</c> runs. Every bound is explicit: runs, minutes, seconds of load, operations.</summary>
public sealed record TortureOptions
{
    /// <summary>The CLI's parley.dll, which the members run.</summary>
    public required string ParleyPath { get; init; }

    /// <summary>Where run folders go; a run that finds nothing is deleted unless <see cref="Keep"/>.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>"linearizability" (the register workload under the nemesis) or "crash" (issue 3: kill -9 rounds).</summary>
    public TortureMode Mode { get; init; } = TortureMode.Linearizability;

    /// <summary>Runs to do; with <see cref="Minutes"/> also set, whichever ends first.</summary>
    public int? Runs { get; init; }

    /// <summary>Keep starting runs until this many minutes have passed.</summary>
    public double? Minutes { get; init; }

    /// <summary>Cluster sizes, used in turn by successive runs.</summary>
    public IReadOnlyList<int> MemberCounts { get; init; } = [3, 5];

    public IReadOnlyList<FaultKind> Faults { get; init; } = FaultKinds.Parse("all")!;

    /// <summary>Seconds of client load per run (the nemesis runs during it).</summary>
    public int RunSeconds { get; init; } = 20;

    /// <summary>Requests per run at most (the checker's cost grows with history length).</summary>
    public int OperationsMaxPerRun { get; init; } = 1_500;

    /// <summary>Clients per run; 0 = one more than the members.</summary>
    public int Clients { get; init; }

    public int KeyCount { get; init; } = 4;

    /// <summary>Watchers of the whole keyspace per run (resuming after breaks); 0 = none.</summary>
    public int Watchers { get; init; } = 2;

    /// <summary>Clients per run that take one shared lock and write a resource fenced by the lock's token; 0 = none.</summary>
    public int LockUsers { get; init; } = 3;

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The linearizability checker's budget per run; running out gives "unknown", never a pass.</summary>
    public TimeSpan CheckTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Crash mode: SIGKILLs per run (single members and, one time in three, every member at once).</summary>
    public int Kills { get; init; } = 15;

    public int Seed { get; init; } = 1;

    public bool Keep { get; init; }

    /// <summary>Stop after the first run with an anomaly.</summary>
    public bool StopOnAnomaly { get; init; }

    /// <summary>
    /// A deliberately injected bug: <c>stale-read</c> is passed to every member (<c>--unsafe-inject-bug</c>);
    /// <see cref="UnfencedLockBug"/> makes the lock users write the resource without the token compare.
    /// </summary>
    public string? InjectBug { get; init; }

    public const string StaleReadBug = "stale-read";

    public const string UnfencedLockBug = "unfenced-lock";

    /// <summary>The bug the members run with, if any (the unfenced lock bug is the clients').</summary>
    public string? ServerBug => InjectBug == UnfencedLockBug ? null : InjectBug;

    /// <summary>How network faults are made real: netns (root), proxy, or auto (netns when the host can).</summary>
    public NetworkMode Network { get; init; } = NetworkMode.Auto;

    public int HeartbeatIntervalMs { get; init; } = 50;

    public int ElectionTimeoutMs { get; init; } = 500;
}

public enum TortureMode
{
    Linearizability,
    Crash,
}
