using Parley.Mvcc;

namespace Parley.Node;

/// <summary>
/// A point-in-time copy of one member's replicated state for backups (etcd's Maintenance.Snapshot): the MVCC snapshot
/// bytes (keys with their retained versions, leases, users and roles, alarms; see <c>MvccStore.WriteSnapshot</c>) as of
/// the last entry this member applied, and where that entry sits.
/// </summary>
/// <param name="Keyspace">The MVCC snapshot; it carries its own CRC-32C.</param>
/// <param name="Revision">The keyspace's revision.</param>
/// <param name="CompactRevision">The keyspace's compaction point (0 when never compacted).</param>
/// <param name="KeyCount">Live keys at <paramref name="Revision"/>.</param>
/// <param name="RaftIndex">The last applied log index: the snapshot holds every entry up to it.</param>
/// <param name="RaftTerm">The term of the entry at <paramref name="RaftIndex"/>.</param>
public sealed record KeyspaceSnapshot(
    ReadOnlyMemory<byte> Keyspace,
    long Revision,
    long CompactRevision,
    long KeyCount,
    ulong RaftIndex,
    ulong RaftTerm);

/// <summary>A keyspace captured by <see cref="ClusterNode.CaptureKeyspace"/>, not yet serialized.</summary>
public sealed record KeyspaceCapture(
    FrozenSnapshot Frozen,
    long Revision,
    long CompactRevision,
    long KeyCount,
    ulong RaftIndex,
    ulong RaftTerm)
{
    /// <summary>Serializes the capture (any thread).</summary>
    public KeyspaceSnapshot Write() => new(Frozen.ToArray(), Revision, CompactRevision, KeyCount, RaftIndex, RaftTerm);
}
