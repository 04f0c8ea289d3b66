namespace Parley.Mvcc;

/// <summary>etcdserverpb.HashKVResponse.</summary>
public sealed class HashKVResponse
{
    public ResponseHeader Header { get; init; }

    /// <summary>CRC-32C over the retained versions at or below the hashed revision; equal on members with equal state.</summary>
    public uint Hash { get; init; }

    /// <summary>-1 when nothing was ever compacted, as in etcd.</summary>
    public long CompactRevision { get; init; }
}
