namespace Parley.Raft;

/// <summary>Where a snapshot sits in the log and the membership at that point.</summary>
public sealed record SnapshotMetadata(ulong Index, ulong Term, ConfigState Config)
{
    public static readonly SnapshotMetadata Empty = new(0, 0, ConfigState.Empty);
}

/// <summary>The application's state up to and including <see cref="SnapshotMetadata.Index"/>.</summary>
public sealed record Snapshot(SnapshotMetadata Metadata, ReadOnlyMemory<byte> Data)
{
    public static readonly Snapshot Empty = new(SnapshotMetadata.Empty, ReadOnlyMemory<byte>.Empty);

    public bool IsEmpty => Metadata.Index == 0;
}
