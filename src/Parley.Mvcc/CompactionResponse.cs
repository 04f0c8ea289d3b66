namespace Parley.Mvcc;

/// <summary>etcdserverpb.CompactionResponse.</summary>
public sealed class CompactionResponse
{
    public ResponseHeader Header { get; init; }
}
