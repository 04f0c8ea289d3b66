namespace Parley.Mvcc;

/// <summary>
/// authpb.Permission: a key (empty <see cref="RangeEnd"/>), a range <c>[Key, RangeEnd)</c>, or everything from
/// <see cref="Key"/> on (<see cref="RangeEnd"/> = <c>"\0"</c>, etcdctl's <c>--from-key</c>).
/// </summary>
public sealed class AuthPermission
{
    public AuthPermission(AuthPermissionType type, byte[] key, byte[] rangeEnd)
    {
        Type = type;
        Key = key;
        RangeEnd = rangeEnd;
    }

    public AuthPermissionType Type { get; }

    public byte[] Key { get; }

    public byte[] RangeEnd { get; }

    public bool Allows(AuthPermissionType wanted) => Type == AuthPermissionType.ReadWrite || Type == wanted;

    public bool SameRange(ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd) =>
        Key.AsSpan().SequenceEqual(key) && RangeEnd.AsSpan().SequenceEqual(rangeEnd);
}
