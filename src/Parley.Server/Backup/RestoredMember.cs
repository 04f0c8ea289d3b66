namespace Parley.Server.Backup;

/// <summary>What <see cref="SnapshotRestore.Restore"/> wrote: one member's new data directory and the cluster it belongs to.</summary>
/// <param name="Members">The new cluster's members (from --initial-cluster) by name and id.</param>
public sealed record RestoredMember(
    string DataDirectory,
    string Name,
    ulong MemberId,
    ulong ClusterId,
    IReadOnlyList<(string Name, ulong Id)> Members,
    long Revision,
    long KeyCount);
