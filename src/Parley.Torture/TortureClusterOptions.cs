namespace Parley.Torture;

/// <summary>How to start a <see cref="TortureCluster"/>.</summary>
public sealed record TortureClusterOptions
{
    public required int Size { get; init; }

    /// <summary>Where data directories and member logs go.</summary>
    public required string Folder { get; init; }

    /// <summary>The CLI's parley.dll (members run the same build as the command that starts them).</summary>
    public required string ParleyPath { get; init; }

    public int Seed { get; init; } = 1;

    public int HeartbeatIntervalMs { get; init; } = 50;

    public int ElectionTimeoutMs { get; init; } = 500;

    /// <summary>Small, so that runs also exercise snapshots and log compaction on restarts.</summary>
    public int SnapshotCount { get; init; } = 2_000;

    /// <summary>Proxy or netns (resolved: never <see cref="NetworkMode.Auto"/>).</summary>
    public NetworkMode Network { get; init; } = NetworkMode.Proxy;

    /// <summary>Netns mode: make latency with tc netem (the kernel has sch_netem) rather than the user-space delay line.</summary>
    public bool UseNetem { get; init; }

    /// <summary>A deliberately injected server bug (<c>--unsafe-inject-bug</c>), or null.</summary>
    public string? InjectBug { get; init; }
}
