namespace Parley.Mvcc;

/// <summary>etcdserverpb.DeleteRangeRequest (range conventions as in <see cref="RangeRequest"/>).</summary>
public sealed class DeleteRangeRequest
{
    public byte[] Key { get; init; } = [];

    public byte[] RangeEnd { get; init; } = [];

    public bool PrevKv { get; init; }
}
