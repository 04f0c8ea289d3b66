namespace Parley.Storage;

/// <summary>Tuning and policy for <see cref="MemberStorage"/> and <see cref="WriteAheadLog"/>.</summary>
public sealed record StorageOptions
{
    public const long SegmentSizeBytesMin = 64 * 1024;

    /// <summary>Size every segment is preallocated to (etcd uses 64 MiB). A record never spans segments.</summary>
    public long SegmentSizeBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>How many snapshot files are kept; older ones are removed after a new one is durable.</summary>
    public int SnapshotsRetained { get; init; } = 3;

    /// <summary>Bound on bytes appended but not yet synced; a bigger batch is a caller bug.</summary>
    public long PendingBytesMax { get; init; } = 512L * 1024 * 1024;

    /// <summary>
    /// Called when a sync fails: the data may already be gone from the page cache, so the only safe move is to stop
    /// and recover from what is durable. Production stops the process; the simulator crashes the member.
    /// If the handler returns, the storage throws <see cref="StorageFatalException"/> and refuses further use.
    /// </summary>
    public Action<string> FatalHandler { get; init; } = message => Environment.FailFast(message);

    /// <summary>
    /// Prepares the next WAL segment on a pool thread once the current one is half full (created, its first MiB of zeros
    /// written and synced: <see cref="IFileSystem.CreateZeroedFile"/>), and keeps the active segment's zeros written
    /// about 1 MiB ahead of its records, also on a pool thread, so that appending changes no file metadata and each
    /// fdatasync is one data write (PostgreSQL zero-fills its WAL segments for the same reason). Off by default: the
    /// simulator's storage stays on one thread; a server turns it on.
    /// </summary>
    public bool PrepareSegmentsAhead { get; init; }

    /// <summary>
    /// At recovery, reads and checks the newest snapshot file on a pool thread while this thread scans the WAL; whether
    /// that snapshot is used is still decided after the scan, by the WAL's record of it becoming durable. Off by
    /// default, like <see cref="PrepareSegmentsAhead"/>: the simulator's storage stays on one thread; a server turns it on.
    /// </summary>
    public bool ReadSnapshotAlongsideWal { get; init; }

    /// <summary>Optional: times every WAL fdatasync for metrics (null, the default, takes no timings).</summary>
    public WalSyncTimer? SyncTimer { get; init; }

    /// <summary>
    /// Injected bug for the simulator only (<c>parley sim --inject-bug no-crc-check</c>): recovery accepts WAL records
    /// and snapshot files without verifying their CRC, so a flipped bit is read back as data. Never set it elsewhere.
    /// </summary>
    public bool SkipChecksumVerification { get; init; }

    internal void Validate()
    {
        if (SegmentSizeBytes < SegmentSizeBytesMin || SegmentSizeBytes > int.MaxValue || SegmentSizeBytes % WalFrame.AlignmentBytes != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(SegmentSizeBytes), SegmentSizeBytes,
                $"segment size must be a multiple of 8 between {SegmentSizeBytesMin} and {int.MaxValue} bytes");
        }
        if (SnapshotsRetained < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(SnapshotsRetained), SnapshotsRetained, "keep at least one snapshot");
        }
    }
}
