namespace Parley.Mvcc;

/// <summary>
/// etcdserverpb.Compare. The proto's target_union is one of Version, CreateRevision, ModRevision,
/// Value, Lease; only the member matching <see cref="Target"/> is read, and an unset member reads as
/// zero (or empty), which is what etcd does when the union holds another case.
/// </summary>
public sealed class Compare
{
    public CompareResult Result { get; init; }

    public CompareTarget Target { get; init; }

    public byte[] Key { get; init; } = [];

    /// <summary>When set, every key in [Key, RangeEnd) must satisfy the compare ("\0" = every key ≥ Key).</summary>
    public byte[] RangeEnd { get; init; } = [];

    public long Version { get; init; }

    public long CreateRevision { get; init; }

    public long ModRevision { get; init; }

    public byte[] Value { get; init; } = [];

    public long Lease { get; init; }
}
