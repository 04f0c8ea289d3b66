namespace Parley.Storage;

/// <summary>The kinds of record a WAL segment holds. Zero is never a type: a zero header marks the end of written data.</summary>
public enum WalRecordType : byte
{
    /// <summary>First record of every segment: format version, cluster, member, sequence number.</summary>
    SegmentHeader = 1,

    /// <summary>One Raft log entry.</summary>
    Entry = 2,

    /// <summary>Raft hard state (term, vote, commit); the newest one wins.</summary>
    HardState = 3,

    /// <summary>A snapshot at (index, term) is durable in the snapshot directory; recovery may start from it.</summary>
    Snapshot = 4,

    /// <summary>Last record of every write that one sync covers (a "sync group"); lets recovery tell a torn write from rot.</summary>
    SyncMark = 5,
}
