namespace Parley.Storage;

/// <summary>Counters since the log was opened (for benchmarks and metrics).</summary>
public sealed class WalStatistics
{
    public long Batches { get; internal set; }

    public long Syncs { get; internal set; }

    public long BytesWritten { get; internal set; }

    /// <summary>Zeros written ahead of the records into allocated blocks (<see cref="StorageOptions.PrepareSegmentsAhead"/>).</summary>
    public long BytesZeroedAhead { get; internal set; }

    public long SegmentsCreated { get; internal set; }

    public long SegmentsReleased { get; internal set; }
}
