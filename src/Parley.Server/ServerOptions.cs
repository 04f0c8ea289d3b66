namespace Parley.Server;

/// <summary>
/// One member's settings, with etcd's flag names and defaults (flag → property: --name → Name, ...). Built and
/// validated by <see cref="ServerOptionsBuilder"/>; URLs are parsed, the cluster map resolved.
/// </summary>
public sealed record ServerOptions
{
    public string Name { get; init; } = "default";

    public string DataDirectory { get; init; } = "default.parley";

    public IReadOnlyList<Uri> ListenClientUrls { get; init; } = [new("http://127.0.0.1:2379")];

    public IReadOnlyList<Uri> AdvertiseClientUrls { get; init; } = [new("http://127.0.0.1:2379")];

    public IReadOnlyList<Uri> ListenPeerUrls { get; init; } = [new("http://127.0.0.1:2380")];

    public IReadOnlyList<Uri> InitialAdvertisePeerUrls { get; init; } = [new("http://127.0.0.1:2380")];

    /// <summary>name → peer URLs of every initial member.</summary>
    public IReadOnlyList<(string Name, Uri[] PeerUrls)> InitialCluster { get; init; } = [("default", [new Uri("http://127.0.0.1:2380")])];

    /// <summary>"new" bootstraps the cluster from <see cref="InitialCluster"/>; "existing" joins one.</summary>
    public string InitialClusterState { get; init; } = "new";

    public string InitialClusterToken { get; init; } = "etcd-cluster";

    public int HeartbeatIntervalMs { get; init; } = 100;

    public int ElectionTimeoutMs { get; init; } = 1000;

    public ulong SnapshotCount { get; init; } = 100_000;

    public int MaxRequestBytes { get; init; } = 1_572_864;

    /// <summary>etcd's --auth-token-ttl: a simple token lives this long after its last use on this member.</summary>
    public int AuthTokenTtlSeconds { get; init; } = 300;

    public long QuotaBackendBytes { get; init; } = 2L * 1024 * 1024 * 1024;

    public IReadOnlyList<Uri> ListenMetricsUrls { get; init; } = [];

    public string LogLevel { get; init; } = "info";

    /// <summary>"text" or "json".</summary>
    public string LogFormat { get; init; } = "text";

    /// <summary>How often idle watchers that asked for progress_notify hear the current revision (etcd: 10 minutes).</summary>
    public TimeSpan WatchProgressNotifyInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How often the leader replicates leases' remaining TTLs (--experimental-lease-checkpoint-interval, etcd's
    /// default 5 minutes), so a new leader resumes them rather than restarting them.
    /// </summary>
    public TimeSpan LeaseCheckpointInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>etcd's --auto-compaction-mode: "periodic" (keep a span of time) or "revision" (keep a number of revisions).</summary>
    public string AutoCompactionMode { get; init; } = "periodic";

    /// <summary>
    /// etcd's --auto-compaction-retention in the periodic mode: history younger than this is kept, older is compacted
    /// by the leader; zero (the default) turns auto-compaction off.
    /// </summary>
    public TimeSpan AutoCompactionPeriod { get; init; }

    /// <summary>etcd's --auto-compaction-retention in the revision mode: revisions kept behind the current one; 0 = off.</summary>
    public long AutoCompactionRevisions { get; init; }

    /// <summary>
    /// UNSAFE, for fault tests only: a deliberately injected bug (hidden flag <c>--unsafe-inject-bug</c>). The one
    /// known value is "stale-read" (<see cref="Parley.Node.NodeOptions.UnsafeStaleLocalReads"/>); null = none.
    /// </summary>
    public string? UnsafeInjectBug { get; init; }

    /// <summary>
    /// Serve the unary KV calls through <see cref="Grpc.DirectUnaryCalls"/> ahead of Grpc.AspNetCore (the default);
    /// off, every call goes through Grpc.AspNetCore. No flag sets it: tests compare the two paths' answers.
    /// </summary>
    internal bool DirectUnaryCalls { get; init; } = true;

    /// <summary>
    /// The WAL's writes and fdatasyncs run on a thread of their own instead of the node loop
    /// (<see cref="Parley.Node.NodeOptions.SyncOffLoop"/>; flag <c>--experimental-wal-sync-off-loop</c>).
    /// </summary>
    public bool WalSyncOffLoop { get; init; }

    /// <summary>
    /// While the node loop is idle after a run of one-input turns, the thread that posts input runs the turn itself
    /// (<see cref="NodeLoop"/>, flag <c>--experimental-idle-turns-on-callers</c>; default true). Off, the loop thread runs
    /// every turn and spins for input when idle.
    /// </summary>
    public bool IdleTurnsOnCallers { get; init; } = true;

    /// <summary>Seed of the member's Raft randomness; 0 = drawn at start.</summary>
    public int RandomSeed { get; init; }
}
