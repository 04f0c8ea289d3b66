using Parley.Raft;

namespace Parley.Node;

/// <summary>Settings of one member's node loop. Times are in ticks; bounds carry their unit last.</summary>
public sealed record NodeOptions
{
    public required ulong MemberId { get; init; }

    /// <summary>Voters of a new cluster; empty when joining an existing one (the log or a snapshot brings membership).</summary>
    public IReadOnlyList<ulong> InitialVoters { get; init; } = [];

    /// <summary>Peer URLs of the initial voters, recorded in the bootstrap entries so the membership carries them.</summary>
    public IReadOnlyDictionary<ulong, IReadOnlyList<string>> InitialPeerUrls { get; init; } = new Dictionary<ulong, IReadOnlyList<string>>();

    public int ElectionTimeoutTicks { get; init; } = 10;

    public int HeartbeatIntervalTicks { get; init; } = 1;

    /// <summary>A request not completed after this long fails ("request timed out"); etcd uses 5 s + 2 election timeouts.</summary>
    public int RequestTimeoutTicks { get; init; } = 70;

    /// <summary>Writes and reads waiting in the node at once; beyond it requests fail with "too many requests".</summary>
    public int PendingRequestsMax { get; init; } = 20_000;

    /// <summary>Writes proposed in one Raft batch.</summary>
    public int ProposalsPerBatchMax { get; init; } = 4_096;

    /// <summary>etcd refuses new requests when commit runs this far ahead of apply.</summary>
    public ulong CommittedAheadOfAppliedMax { get; init; } = 5_000;

    /// <summary>Applied entries between two snapshots of the keyspace (etcd's --snapshot-count).</summary>
    public ulong SnapshotCountEntries { get; init; } = 100_000;

    /// <summary>
    /// A snapshot is also taken when the entries applied since the last one add up to this many bytes, or to half the
    /// last snapshot's size if that is more (up to <see cref="SnapshotLogBytesMax"/>): a restart then replays at most
    /// about half a snapshot's worth of log after loading it, whatever the entry sizes (many small entries, or few large
    /// Txns), and rewriting the keyspace costs at most about twice what was written.
    /// </summary>
    public long SnapshotLogBytesMin { get; init; } = 64L << 20;

    /// <summary>
    /// The half-the-last-snapshot rule stops here: however large the keyspace, a snapshot is due after this many bytes
    /// of log, so a restart replays at most about this much (96 MiB: about 1.5 s of replay on the 2-core test VM, where
    /// half of a 1M-key snapshot with history was up to 250 MB and 3.3 s). The price is in keyspaces over twice this
    /// size: each is rewritten once per this many bytes put (a 480 MiB keyspace, 5 bytes written per byte put instead
    /// of 2).
    /// </summary>
    public long SnapshotLogBytesMax { get; init; } = 96L << 20;

    /// <summary>
    /// Past this snapshot size the entry-count rule (<see cref="SnapshotCountEntries"/>) no longer applies and snapshots
    /// are taken by log bytes only (<see cref="SnapshotLogBytesMin"/>, or half the last snapshot up to
    /// <see cref="SnapshotLogBytesMax"/>): a snapshot rewrites the whole keyspace, its history included, so it must be
    /// paid for by bytes written, not by entries (a 300 MB keyspace every 100,000 puts of 300 B is 10 bytes written per
    /// byte put; a 50 MB one every 100,000 puts took 12% of a member's CPU under put load). Smaller keyspaces are
    /// snapshotted by count as well, as etcd does.
    /// </summary>
    public long SnapshotCountGateBytes { get; init; } = 16L << 20;

    /// <summary>Entries kept in the log behind a snapshot, so slightly lagging followers catch up without one.</summary>
    public ulong SnapshotCatchUpEntries { get; init; } = 5_000;

    /// <summary>How long one tick is, only to turn lease TTLs (seconds, etcd's unit) into ticks.</summary>
    public int TickIntervalMs { get; init; } = 100;

    /// <summary>
    /// How often the leader replicates the remaining TTL of leases (etcd's lease checkpoint), so that leader changes
    /// resume them instead of restarting them; 0 = never. etcd's default is 5 minutes.
    /// </summary>
    public int LeaseCheckpointIntervalTicks { get; init; } = 3_000;

    /// <summary>
    /// History the leader compacts away on its own, as etcd's compactor does (<see cref="AutoCompactionMode"/>); off by
    /// default. Only the leader proposes the compactions; every member samples its revision, so a new leader goes on.
    /// </summary>
    public AutoCompactionMode AutoCompactionMode { get; init; }

    /// <summary>
    /// <see cref="AutoCompactionMode.Periodic"/>: ticks of history kept (at least 1); <see cref="AutoCompactionMode.Revision"/>:
    /// revisions kept behind the current one.
    /// </summary>
    public long AutoCompactionRetention { get; init; }

    /// <summary>How often the revision mode compacts (etcd: every 5 minutes).</summary>
    public int AutoCompactionRevisionIntervalTicks { get; init; } = 3_000;

    /// <summary>
    /// UNSAFE, for fault tests only (<c>parley serve --unsafe-inject-bug stale-read</c>): linearizable reads skip
    /// ReadIndex and are served from this member's local keyspace at once, so a partitioned or lagging member
    /// returns stale data. <c>parley torture</c> must catch it. Never set in production.
    /// </summary>
    public bool UnsafeStaleLocalReads { get; init; }

    /// <summary>
    /// The WAL's writes and fdatasyncs run off the node's thread (<see cref="ClusterNode.WalSyncer"/>; ADR 0005): the
    /// node goes on with its turns while a batch is synced, and what it appends meanwhile forms the next batch.
    /// Acknowledgements and votes still leave only once the sync that covers them is done, and a leader counts itself
    /// toward a commit only then. Readies that carry a snapshot or commit a configuration change are synced inline.
    /// </summary>
    public bool SyncOffLoop { get; init; }

    public RaftOptions ToRaftOptions() => new()
    {
        Id = MemberId,
        ElectionTimeoutTicks = ElectionTimeoutTicks,
        HeartbeatIntervalTicks = HeartbeatIntervalTicks,
    };
}
