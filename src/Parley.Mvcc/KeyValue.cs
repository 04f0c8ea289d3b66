namespace Parley.Mvcc;

/// <summary>
/// mvccpb.KeyValue. <see cref="Key"/> and <see cref="Value"/> are shared with the store and must
/// not be mutated by the caller (copying every key and value out would double the cost of a range).
/// </summary>
public sealed class KeyValue
{
    public KeyValue(byte[] key, long createRevision, long modRevision, long version, byte[] value, long lease)
    {
        Key = key;
        CreateRevision = createRevision;
        ModRevision = modRevision;
        Version = version;
        Value = value;
        Lease = lease;
    }

    public byte[] Key { get; }

    public long CreateRevision { get; }

    public long ModRevision { get; }

    public long Version { get; }

    public byte[] Value { get; }

    public long Lease { get; }

    public override string ToString() =>
        $"{KeyBytes.Display(Key)}=>{KeyBytes.Display(Value)} c{CreateRevision} m{ModRevision} v{Version} l{Lease}";
}
