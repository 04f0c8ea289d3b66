namespace Parley.Mvcc;

/// <summary>A granted lease and the key records attached to it (reference identity).</summary>
internal sealed class LeaseState
{
    public LeaseState(long id, long ttlSeconds)
    {
        Id = id;
        TtlSeconds = ttlSeconds;
    }

    public long Id { get; }

    public long TtlSeconds { get; }

    /// <summary>
    /// The remaining TTL the leader last checkpointed through Raft (0 = none: the lease has its full TTL). A new
    /// leader starts the lease's clock from here, so leader changes neither cut a lease short nor extend it forever.
    /// </summary>
    public long RemainingTtlSeconds { get; set; }

    public HashSet<KeyRecord> Keys { get; } = [];

    /// <summary>Attached records in key order: revoke deletes in this order on every member.</summary>
    public KeyRecord[] SortedKeys()
    {
        var keys = new KeyRecord[Keys.Count];
        Keys.CopyTo(keys);
        Array.Sort(keys, static (left, right) => KeyBytes.Compare(left.Key, right.Key));
        return keys;
    }
}
