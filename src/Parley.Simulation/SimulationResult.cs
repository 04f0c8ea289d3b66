namespace Parley.Simulation;

/// <summary>How one seed's run ended, with enough to reproduce and understand a failure.</summary>
public sealed record SimulationResult
{
    public required ulong Seed { get; init; }
    public required SimulationParameters Parameters { get; init; }
    /// <summary>Null when every invariant held and the cluster converged.</summary>
    public string? Violation { get; init; }
    public string ViolationKind { get; init; } = "";
    public string TraceTail { get; init; } = "";
    public long VirtualMicros { get; init; }
    public long Events { get; init; }
    public long MessagesSent { get; init; }
    public int OperationsCompleted { get; init; }
    public int OperationsAcknowledged { get; init; }
    public int ReadsChecked { get; init; }
    public int Crashes { get; init; }
    public int Partitions { get; init; }
    public int LeaderElections { get; init; }
    public int ConfigChanges { get; init; }
    public int Snapshots { get; init; }
    /// <summary>Every client operation of the run with its interval and outcome, for offline checking.</summary>
    public IReadOnlyList<ClientOperation> Operations { get; init; } = [];

    public bool Passed => Violation is null;
}
