namespace Parley.Mvcc;

/// <summary>etcdserverpb.CompactionRequest. Physical is carried for the server; compaction here is always immediate.</summary>
public sealed class CompactionRequest
{
    public long Revision { get; init; }

    public bool Physical { get; init; }
}
