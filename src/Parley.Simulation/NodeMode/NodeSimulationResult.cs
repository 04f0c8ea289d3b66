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
    public int LeaderElections { get; init; }
    public long FileSyncs { get; init; }

    public bool Passed => Violation is null;
}
