namespace Parley.Bench.Comparison;

/// <summary>Settings of one <c>bench compare</c> run (see <see cref="CompareOptionsParser"/>).</summary>
public sealed record CompareOptions
{
    public int Members { get; init; } = 3;

    public IReadOnlyList<Workload> Workloads { get; init; } =
        [Workload.Put, Workload.Get, Workload.GetSerializable, Workload.Range100, Workload.Range1000, Workload.TxnCas, Workload.Mixed];

    public int Clients { get; init; } = 64;

    public int? Connections { get; init; }

    /// <summary>What carries the unary calls, for both servers alike (see <see cref="BenchOptions.GrpcClient"/>).</summary>
    public GrpcClientKind GrpcClient { get; init; } = GrpcClientKind.Lean;

    /// <summary>Client counts of the put sweep drawn in the chart (empty: no sweep).</summary>
    public IReadOnlyList<int> Sweep { get; init; } = [1, 8, 64, 256];

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Each measured run is preceded by at least this much of the same workload, not measured.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Above <see cref="Warmup"/>: the warm-up goes on, in windows of <see cref="WarmupWindow"/>, until the servers are
    /// steady (<see cref="SteadyState"/>: CPU per operation level, JIT done compiling in bulk) or this much has passed.
    /// Equal: a fixed warm-up.
    /// </summary>
    public TimeSpan WarmupMaximum { get; init; } = TimeSpan.FromSeconds(60);

    public static readonly TimeSpan WarmupWindow = TimeSpan.FromSeconds(5);

    public bool AdaptiveWarmup => WarmupMaximum > Warmup;

    public long KeyCount { get; init; } = 100_000;

    public int KeySizeBytes { get; init; } = 16;

    public int ValueSizeBytes { get; init; } = 256;

    public double ReadRatio { get; init; } = 0.9;

    /// <summary>Watch workload: watchers, and the writers' open-loop rate (puts per second over all clients).</summary>
    public int Watchers { get; init; } = 100;

    public double WatchRatePerSecond { get; init; } = 500;

    /// <summary>Keys to load for the memory-per-key and restart measurements (0: skip them).</summary>
    public long MemoryKeys { get; init; }

    public string? EtcdPath { get; init; }

    public string? ParleyPath { get; init; }

    /// <summary>Where compare.json and compare.svg go.</summary>
    public string OutputDirectory { get; init; } = "bench-compare";

    public string? JsonPath { get; init; }

    public OutputFormat Output { get; init; } = OutputFormat.Table;

    /// <summary>The whole run stops (and cleans up) after this long.</summary>
    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromMinutes(30);

    public bool Progress { get; init; } = true;

    public int Seed { get; init; } = 1;

    /// <summary>Every measured workload's clients connect to the leader alone (etcd's benchmark calls it --target-leader).</summary>
    public bool TargetLeader { get; init; }

    public int ConnectionsFor(int clients) => Math.Min(clients, Connections ?? 8);

    public BenchOptions BenchOptionsFor(Workload workload, int clients, IReadOnlyList<string> endpoints) => new()
    {
        Endpoints = endpoints,
        Workload = workload,
        Clients = clients,
        Connections = ConnectionsFor(clients),
        GrpcClient = GrpcClient,
        KeyCount = KeyCount,
        KeySizeBytes = KeySizeBytes,
        ValueSizeBytes = ValueSizeBytes,
        Duration = Duration,
        Warmup = Warmup,
        ReadRatio = ReadRatio,
        Watchers = Watchers,
        TargetRatePerSecond = workload == Workload.Watch ? WatchRatePerSecond : null,
        Preload = false, // compare preloads each cluster once
        Seed = Seed,
        Progress = Progress,
    };
}
