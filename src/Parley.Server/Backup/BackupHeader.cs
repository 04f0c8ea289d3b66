namespace Parley.Server.Backup;

/// <summary>Where a snapshot file was taken: the member and cluster, the Raft position and the keyspace's revision.</summary>
internal sealed record BackupHeader(
    ulong ClusterId,
    ulong MemberId,
    ulong RaftIndex,
    ulong RaftTerm,
    long Revision,
    long CompactRevision,
    long KeyCount);
