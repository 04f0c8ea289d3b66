using Parley.Mvcc;
using Parley.Raft;
using Parley.Storage;

namespace Parley.Node;

/// <summary>
/// Builds a new member's data directory from a backup's keyspace (<c>parley snapshot restore</c>). Every member of the
/// new cluster is restored from the same keyspace with the same voters, so each starts from an identical Raft snapshot,
/// as if the cluster's log had reached that point: <see cref="ClusterNode"/> then starts from the snapshot instead of
/// bootstrapping. The snapshot sits at term 1 and index = number of voters (where a new cluster's bootstrap log of one
/// AddVoter entry per member ends, as etcd's restore does); the keyspace keeps its revisions, leases, users and alarms.
/// </summary>
public static class MemberRestore
{
    /// <summary>The term of a restored cluster's starting snapshot (that of a new cluster's bootstrap entries).</summary>
    public const ulong RestoredTerm = 1;

    /// <summary>
    /// Writes identity, WAL and a snapshot holding <paramref name="keyspace"/> (an MVCC snapshot, which is what
    /// <see cref="ClusterNode"/> keeps as a Raft snapshot's data) with <paramref name="voters"/> as the membership.
    /// The directory must be new or empty (<see cref="StorageRefusedException"/> otherwise); <paramref name="keyspace"/>
    /// must restore (the caller has verified the backup, this checks again). Returns the snapshot written.
    /// </summary>
    public static Snapshot CreateDataDirectory(IFileSystem fileSystem, string dataDirectory, StorageIdentity identity, IReadOnlyList<ulong> voters, ReadOnlyMemory<byte> keyspace)
    {
        var sortedVoters = voters.Distinct().Order().ToArray();
        if (sortedVoters.Length != voters.Count || !sortedVoters.Contains(identity.MemberId))
        {
            throw new ArgumentException($"the voters must be distinct and include member {identity.MemberId:x}", nameof(voters));
        }
        var restored = MvccStore.Restore(keyspace.Span);
        if (!restored.IsSuccess)
        {
            throw new ArgumentException($"the keyspace does not restore: {restored.ErrorMessage}", nameof(keyspace));
        }
        using var storage = MemberStorage.Open(fileSystem, dataDirectory, identity);
        if (!storage.Recovered.CreatedFresh)
        {
            throw new StorageRefusedException($"{dataDirectory} already holds a member's data; a restore needs a new or empty directory");
        }
        var index = (ulong)sortedVoters.Length;
        var snapshot = new Snapshot(new SnapshotMetadata(index, RestoredTerm, new ConfigState(sortedVoters, [])), keyspace);
        storage.SaveSnapshot(snapshot);
        storage.Append(new HardState(RestoredTerm, 0, index), []);
        storage.Sync();
        return snapshot;
    }
}
