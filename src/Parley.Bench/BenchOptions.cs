namespace Parley.Bench;

/// <summary>One bench run, validated (see <see cref="BenchOptionsParser"/>).</summary>
public sealed record BenchOptions
{
    public const int ClientsMax = 10_000;
    public const int ConnectionsMax = 1_000;
    public const long KeyCountMax = 100_000_000;
    public const int ValueSizeMax = 1_048_576;
    public const int PreloadBatchKeysDefault = 100;
    public const int WatchersMax = 100_000;
    public const int LeasesMax = 1_000_000;

    /// <summary>A watch workload's values start with the put's send timestamp (8 bytes).</summary>
    public const int WatchValueSizeMin = 8;

    public IReadOnlyList<string> Endpoints { get; init; } = ["127.0.0.1:2379"];

    public Workload Workload { get; init; } = Workload.Put;

    public int Clients { get; init; } = 64;

    /// <summary>gRPC channels (each its own HTTP/2 connection), shared round-robin by the clients.</summary>
    public int Connections { get; init; } = 8;

    /// <summary>What carries the unary calls (KV): this bench's own HTTP/2 client, or Grpc.Net.Client's.</summary>
    public GrpcClientKind GrpcClient { get; init; } = GrpcClientKind.Lean;

    public long KeyCount { get; init; } = 100_000;

    public int KeySizeBytes { get; init; } = 16;

    public int ValueSizeBytes { get; init; } = 256;

    /// <summary>How long to send; with <see cref="TotalOperations"/> too, whichever ends first.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public long? TotalOperations { get; init; }

    /// <summary>Run the workload this long first and drop its results (0: no warm-up).</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.Zero;

    /// <summary>Open loop: operations per second over all clients; null means closed loop (send on completion).</summary>
    public double? TargetRatePerSecond { get; init; }

    /// <summary>Watch streams of the watch workload (each watches the whole key space).</summary>
    public int Watchers { get; init; } = 100;

    /// <summary>Leases of the lease-keepalive workload (at least one per client; null: one per client).</summary>
    public int? Leases { get; init; }

    /// <summary>TTL of the leases the lease-keepalive workload grants.</summary>
    public int LeaseTtlSeconds { get; init; } = 60;

    /// <summary>Fraction of reads in the mixed workload.</summary>
    public double ReadRatio { get; init; } = 0.9;

    /// <summary>Write the key space before read workloads (skipped if false: the keys must already exist).</summary>
    public bool Preload { get; init; } = true;

    /// <summary>Per-request deadline; a request past it counts as an error (DeadlineExceeded).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int Seed { get; init; } = 1;

    public string? JsonPath { get; init; }

    public OutputFormat Output { get; init; } = OutputFormat.Table;

    /// <summary>Live progress on the terminal (only when stdout is one and the output is a table).</summary>
    public bool Progress { get; init; } = true;
}

/// <summary>The client stack of a bench's unary calls (streams always use Grpc.Net.Client).</summary>
public enum GrpcClientKind
{
    /// <summary>The bench's HTTP/2 client (Wire/LeanHttp2Connection): a few microseconds of CPU per call.</summary>
    Lean,

    /// <summary>Grpc.Net.Client over SocketsHttpHandler, as the dotnet-etcd client uses.</summary>
    GrpcNet,
}

public enum OutputFormat
{
    Table,
    Json,
}
