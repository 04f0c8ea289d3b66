namespace Parley.Bench.Comparison;

/// <summary>Everything one <c>bench compare</c> run measured (serialised as JSON; the tables and chart come from it).</summary>
public sealed record CompareResult
{
    public required string StartedUtc { get; init; }

    public required string Command { get; init; }

    public required MachineInfo Machine { get; init; }

    public required int Members { get; init; }

    public List<WorkloadComparison> Workloads { get; init; } = [];

    /// <summary>Put at each client count of the sweep (the chart's data).</summary>
    public List<WorkloadComparison> Sweep { get; init; } = [];

    public MemoryComparison? Memory { get; set; }

    public List<TargetCheck> Targets { get; init; } = [];

    public bool Cancelled { get; set; }

    public string? Error { get; set; }
}

public sealed record MachineInfo(int ProcessorCount, string LoadAverageAtStart, string? LoadAverageAtEnd, string Runtime)
{
    public string? LoadAverageAtEnd { get; set; } = LoadAverageAtEnd;
}

/// <summary>One workload at one client count on both servers.</summary>
public sealed record WorkloadComparison(string Workload, int Clients, ServerRun Etcd, ServerRun Parley)
{
    /// <summary>Parley ÷ etcd: above 1 is better for throughput, below 1 is better for the others.</summary>
    public ComparisonRatios Ratios => new(
        Ratio(Parley.Result.ThroughputPerSecond, Etcd.Result.ThroughputPerSecond),
        Ratio(Parley.Result.Latency.P50Ms, Etcd.Result.Latency.P50Ms),
        Ratio(Parley.Result.Latency.P99Ms, Etcd.Result.Latency.P99Ms),
        Ratio(Parley.CpuSecondsPer1000Operations, Etcd.CpuSecondsPer1000Operations),
        Ratio(Parley.PeakResidentBytes, Etcd.PeakResidentBytes));

    public static double? Ratio(double? parley, double? etcd) =>
        parley is { } p && etcd is { } e && e > 0 ? Math.Round(p / e, 3) : null;
}

public sealed record ComparisonRatios(double? Throughput, double? P50, double? P99, double? CpuPer1000Operations, double? PeakResident);

/// <summary>One server's side of a comparison: the bench result plus what the server processes used.</summary>
public sealed record ServerRun(BenchResult Result, double ServerCpuSeconds, double ClientCpuSeconds, long PeakResidentBytes)
{
    /// <summary>Server CPU seconds (all members summed) per 1,000 successful operations.</summary>
    public double? CpuSecondsPer1000Operations =>
        Result.Operations > 0 ? Math.Round(ServerCpuSeconds / Result.Operations * 1000, 4) : null;
}

/// <summary>Resident memory per stored key and restart time after loading many keys.</summary>
public sealed record MemoryComparison(long Keys, int ValueSizeBytes, MemoryRun Etcd, MemoryRun Parley);

public sealed record MemoryRun(
    double LoadSeconds,
    long ResidentBytesBefore,
    long ResidentBytesAfter,
    double BytesPerKeyPerMember,
    double? RestartSeconds,
    string? RestartError);

/// <summary>One issue target: what was required, what each side measured, and whether it is met.</summary>
public sealed record TargetCheck(string Name, string Requirement, string Etcd, string Parley, bool? Met);
