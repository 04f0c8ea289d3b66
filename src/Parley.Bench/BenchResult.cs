namespace Parley.Bench;

/// <summary>What one bench run measured; printed as a table and serialised as JSON.</summary>
public sealed record BenchResult
{
    public required string Workload { get; init; }

    public required IReadOnlyList<string> Endpoints { get; init; }

    public required int Clients { get; init; }

    public required int Connections { get; init; }

    public required long KeyCount { get; init; }

    public required int KeySizeBytes { get; init; }

    public required int ValueSizeBytes { get; init; }

    public double? ReadRatio { get; init; }

    /// <summary>Open-loop target (operations per second over all clients); null for a closed-loop run.</summary>
    public double? TargetRatePerSecond { get; init; }

    public required string StartedUtc { get; init; }

    /// <summary>From the first send to the last completion.</summary>
    public required double ElapsedSeconds { get; init; }

    /// <summary>Operations that completed successfully.</summary>
    public required long Operations { get; init; }

    public required long Errors { get; init; }

    /// <summary>Errors by kind ("StatusCode: message"), at most <see cref="ErrorTally.KindsMax"/> kinds.</summary>
    public required IReadOnlyDictionary<string, long> ErrorKinds { get; init; }

    public required double ThroughputPerSecond { get; init; }

    /// <summary>Latency of successful operations: from the intended send time in an open-loop run, else from the send.</summary>
    public required LatencySummary Latency { get; init; }

    /// <summary>Open loop only: from the actual send to the completion (what the server alone cost).</summary>
    public LatencySummary? ServiceTime { get; init; }

    public long? Reads { get; init; }

    public long? Writes { get; init; }

    public long? TxnSucceeded { get; init; }

    public long? TxnFailed { get; init; }

    /// <summary>Keys returned by all reads (ranges return many per operation).</summary>
    public long? KeysRead { get; init; }

    /// <summary>Lease workload: keep-alives answered with a live TTL, and the leases kept alive.</summary>
    public long? KeepAlives { get; init; }

    public int? Leases { get; init; }

    /// <summary>Watch workload: what the watchers received (the other figures are the writers').</summary>
    public WatchSummary? Watch { get; init; }

    /// <summary>CPU seconds this client process spent in the measured phase (all its threads; the warm-up excluded).</summary>
    public double? ClientCpuSeconds { get; init; }

    /// <summary>How long the unmeasured warm-up ran (null: none).</summary>
    public double? WarmupSeconds { get; init; }

    /// <summary>The run was stopped early (Ctrl-C or a time limit); the figures cover what ran.</summary>
    public bool Cancelled { get; init; }
}
