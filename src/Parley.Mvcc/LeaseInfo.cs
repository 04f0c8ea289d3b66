namespace Parley.Mvcc;

/// <summary>
/// The replicated part of a lease: its id, granted TTL and attached keys (sorted). Remaining time is
/// not here: expiry is decided by the leader outside the state machine.
/// </summary>
public sealed class LeaseInfo
{
    public long ID { get; init; }

    public long TTL { get; init; }

    /// <summary>The last checkpointed remaining TTL in seconds; 0 when none (the full TTL counts).</summary>
    public long RemainingTTL { get; init; }

    public IReadOnlyList<byte[]> Keys { get; init; } = [];
}
