using Parley.Raft;

namespace Parley.Storage;

/// <summary>One decoded WAL record and where it sits. Only the fields of its <see cref="Type"/> are meaningful.</summary>
internal readonly record struct WalRecord(
    WalRecordType Type,
    uint Group,
    long Offset,
    int FrameBytes,
    Entry Entry,
    HardState HardState,
    ulong SnapshotIndex,
    ulong SnapshotTerm);
