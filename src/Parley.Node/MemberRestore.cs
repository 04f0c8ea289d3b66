using Parley.Mvcc;
using Parley.Raft;
using Parley.Storage;

namespace Parley.Node;

/// <summary>
/// Builds a new member's data directory from a backup's keyspace (<c>parley snapshot restore</c>). Every member of the
/// new cluster is restored from the same keyspace with the same voters, so each starts from an identical Raft snapshot,
/// as if the cluster's log had reached that point: <see cref="ClusterNode"/> then starts from the snapshot instead of
/// bootstrapping. The snapshot sits at term 1 and index = number of voters (where a new cluster's bootstrap log of one
/// AddVoter entry per member ends, as etcd's restore does); the keyspace keeps its revisions, leases, users and alarms,
/// and the replicated member list becomes the new cluster's.
/// </summary>
public static class MemberRestore
{
    /// <summary>The term of a restored cluster's starting snapshot (that of a new cluster's bootstrap entries).</summary>
    public const ulong RestoredTerm = 1;

    /// <summary>
    /// Writes identity, WAL and a snapshot holding <paramref name="keyspace"/> (an MVCC snapshot, which is what
    /// <see cref="ClusterNode"/> keeps as a Raft snapshot's data) with <paramref name="members"/> as the membership:
    /// all voters, their peer URLs replacing the old cluster's in the replicated state, no removed ids. The directory
    /// must be new or empty (<see cref="StorageRefusedException"/> otherwise); <paramref name="keyspace"/> must restore
    /// (the caller has verified the backup, this checks again). Returns the snapshot written.
    /// </summary>
    public static Snapshot CreateDataDirectory(
        IFileSystem fileSystem, string dataDirectory, StorageIdentity identity, IReadOnlyList<ClusterMemberRecord> members, ReadOnlyMemory<byte> keyspace)
    {
        var voters = members.Select(member => member.Id).Distinct().Order().ToArray();
        if (voters.Length != members.Count || !voters.Contains(identity.MemberId) || voters.Contains(0UL))
        {
            throw new ArgumentException($"the members must have distinct non-zero ids and include member {identity.MemberId:x}", nameof(members));
        }
        var restored = MvccStore.Restore(keyspace.Span);
        if (!restored.IsSuccess)
        {
            throw new ArgumentException($"the keyspace does not restore: {restored.ErrorMessage}", nameof(keyspace));
        }
        var store = restored.Value!;
        store.ResetMembers(members);
        using var storage = MemberStorage.Open(fileSystem, dataDirectory, identity);
        if (!storage.Recovered.CreatedFresh)
        {
            throw new StorageRefusedException($"{dataDirectory} already holds a member's data; a restore needs a new or empty directory");
        }
        var index = (ulong)voters.Length;
        var snapshot = new Snapshot(new SnapshotMetadata(index, RestoredTerm, new ConfigState(voters, [])), store.Snapshot());
        storage.SaveSnapshot(snapshot);
        storage.Append(new HardState(RestoredTerm, 0, index), []);
        storage.Sync();
        return snapshot;
    }
}
