namespace Parley.Node;

/// <summary>The reads that share one ReadIndex request (one leadership confirmation round serves them all).</summary>
internal sealed class ReadBatch(List<PendingRead> reads)
{
    public List<PendingRead> Reads { get; } = reads;

    /// <summary>The confirmed read index, once the ReadState arrived.</summary>
    public ulong Index { get; set; }
}
