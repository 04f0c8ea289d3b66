namespace Parley.Mvcc;

/// <summary>etcdserverpb.RangeResponse.</summary>
public sealed class RangeResponse
{
    public ResponseHeader Header { get; init; }

    public IReadOnlyList<KeyValue> Kvs { get; init; } = [];

    /// <summary>True exactly when the limit cut the result.</summary>
    public bool More { get; init; }

    /// <summary>Keys in the range at the read revision, before the limit and before the revision filters.</summary>
    public long Count { get; init; }
}
