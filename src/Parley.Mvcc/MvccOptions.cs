namespace Parley.Mvcc;

/// <summary>
/// Replicated configuration: every member must use equal options, or their states diverge.
/// </summary>
public sealed class MvccOptions
{
    /// <summary>etcd's --max-txn-ops default.</summary>
    public int TxnOperationsMax { get; init; } = 128;

    /// <summary>ceil(1.5 × election timeout) with etcd's default 1 s election timeout.</summary>
    public long LeaseTtlMinimumSeconds { get; init; } = 2;

    /// <summary>etcd's MaxLeaseTTL.</summary>
    public long LeaseTtlMaximumSeconds { get; init; } = 9_000_000_000;

    /// <summary>Bound of the effectively-once table; the oldest record is evicted past it.</summary>
    public int RecordedRequestsMax { get; init; } = 65_536;

    /// <summary>
    /// How long a recorded request id lives, in the caller's logical time units (the same units as
    /// <see cref="WriteCommand.LogicalTime"/>, e.g. leader ticks or applied index).
    /// </summary>
    public long RecordedRequestRetention { get; init; } = 100_000;

    public static MvccOptions Default { get; } = new();
}
