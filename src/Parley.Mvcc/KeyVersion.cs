namespace Parley.Mvcc;

/// <summary>
/// One version of a key. A null <see cref="Value"/> marks a tombstone (the key was deleted at
/// <see cref="ModRevision"/>); live values are never null (an empty value is a zero-length array).
/// </summary>
internal readonly struct KeyVersion
{
    public KeyVersion(long modRevision, long createRevision, long version, long lease, byte[]? value)
    {
        ModRevision = modRevision;
        CreateRevision = createRevision;
        Version = version;
        Lease = lease;
        Value = value;
    }

    public long ModRevision { get; }

    public long CreateRevision { get; }

    public long Version { get; }

    public long Lease { get; }

    public byte[]? Value { get; }

    public bool IsTombstone => Value is null;

    public static KeyVersion Tombstone(long revision) => new(revision, 0, 0, 0, null);
}
