namespace Parley.Mvcc;

/// <summary>
/// etcdserverpb.PutRequest. The store keeps <see cref="Key"/> and <see cref="Value"/> by reference
/// (no copy on the hot path): do not mutate them after the call.
/// </summary>
public sealed class PutRequest
{
    public byte[] Key { get; init; } = [];

    public byte[] Value { get; init; } = [];

    public long Lease { get; init; }

    public bool PrevKv { get; init; }

    public bool IgnoreValue { get; init; }

    public bool IgnoreLease { get; init; }
}
