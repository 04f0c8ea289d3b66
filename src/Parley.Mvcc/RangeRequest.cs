namespace Parley.Mvcc;

/// <summary>etcdserverpb.RangeRequest. Ranges are [Key, RangeEnd): empty end = one key, "\0" = every key ≥ Key.</summary>
public sealed class RangeRequest
{
    public byte[] Key { get; init; } = [];

    public byte[] RangeEnd { get; init; } = [];

    /// <summary>0 or negative = unlimited.</summary>
    public long Limit { get; init; }

    /// <summary>0 or negative = the current revision.</summary>
    public long Revision { get; init; }

    public SortOrder SortOrder { get; init; }

    public SortTarget SortTarget { get; init; }

    /// <summary>Carried for the server (read path choice); the keyspace ignores it.</summary>
    public bool Serializable { get; init; }

    public bool KeysOnly { get; init; }

    public bool CountOnly { get; init; }

    public long MinModRevision { get; init; }

    public long MaxModRevision { get; init; }

    public long MinCreateRevision { get; init; }

    public long MaxCreateRevision { get; init; }
}
