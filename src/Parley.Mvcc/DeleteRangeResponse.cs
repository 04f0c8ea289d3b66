namespace Parley.Mvcc;

/// <summary>etcdserverpb.DeleteRangeResponse.</summary>
public sealed class DeleteRangeResponse
{
    public ResponseHeader Header { get; init; }

    public long Deleted { get; init; }

    public IReadOnlyList<KeyValue> PrevKvs { get; init; } = [];
}
