using System.Text;
using Parley.Mvcc;
using Parley.Storage;

namespace Parley.Node.Tests;

/// <summary>
/// A keyspace taken with <see cref="ClusterNode.TakeKeyspaceSnapshot"/> and written into new data directories by
/// <see cref="MemberRestore.CreateDataDirectory"/> starts a new cluster holding the same state (simulated disks,
/// virtual time).
/// </summary>
public class MemberRestoreTests
{
    private const int Tps = NodeCluster.TicksPerSecond;

    [Fact]
    public void RestoredMembers_StartWithTheBackupsRevisionHashAndLeases_ElectALeader_AndAcceptWrites()
    {
        KeyspaceSnapshot backup;
        uint hash;
        long lease;
        using (var source = new NodeCluster())
        {
            var leader = source.Leader();
            lease = source.Grant(leader, ttlSeconds: 30);
            source.Put(leader, "a", 0);
            source.Put(leader, "a", 0);
            source.Put(leader, "leased", lease);
            backup = source.Node(leader).TakeKeyspaceSnapshot();
            Assert.Equal(NodeCluster.PeerUrl(1), source.Node(leader).Store.Members[0].PeerUrls[0]); // the old cluster's, replaced below
            var store = source.Node(leader).Store;
            hash = store.HashKV(0).Value!.Hash;
            Assert.Equal(store.Revision, backup.Revision);
            Assert.Equal(2, backup.KeyCount);
            Assert.Equal(source.Node(leader).GetStatus().AppliedIndex, backup.RaftIndex);
            Assert.Equal(source.Node(leader).Term, backup.RaftTerm);
        }

        using var restored = new NodeCluster(seed: 2, prepareDisk: (id, voters, disk) =>
            MemberRestore.CreateDataDirectory(disk, NodeCluster.DataDirectory, NodeCluster.Identity(id), NewMembers(voters), backup.Keyspace));
        var newLeader = restored.Leader();
        foreach (var id in restored.Live)
        {
            Assert.Equal(
                ["1 http://10.9.0.1:2380 voter", "2 http://10.9.0.2:2380 voter", "3 http://10.9.0.3:2380 voter"],
                restored.Node(id).Members.Select(member => $"{member.Id} {string.Join(",", member.PeerUrls)} {(member.IsLearner ? "learner" : "voter")}"));
            var store = restored.Node(id).Store;
            Assert.Empty(store.RemovedMembers);
            Assert.Equal(hash, store.HashKV(0).Value!.Hash);
            Assert.Equal(backup.Revision, store.Revision);
            Assert.True(store.TryGetLeaseTtl(lease, out _, out _));
        }
        restored.Put(newLeader, "after", 0);
        Assert.All(restored.Live, id => Assert.Equal(backup.Revision + 1, restored.Node(id).Store.Revision));

        // The lease runs again under the new leader: not before its TTL, and then with its key.
        restored.Tick(25 * Tps);
        Assert.True(restored.HasLease(newLeader, lease));
        restored.Tick(10 * Tps);
        Assert.False(restored.HasLease(newLeader, lease));
        var leased = restored.Node(newLeader).Store.Range(new RangeRequest { Key = Encoding.UTF8.GetBytes("leased") }).Value!;
        Assert.Empty(leased.Kvs);
    }

    // Not the source cluster's URLs (NodeCluster.PeerUrl): the restored state must carry these instead.
    private static ClusterMemberRecord[] NewMembers(IReadOnlyList<ulong> voters) =>
        voters.Select(id => new ClusterMemberRecord(id, [$"http://10.9.0.{id}:2380"])).ToArray();

    [Fact]
    public void Restore_IntoADirectoryHoldingAMember_IsRefused()
    {
        var disk = new SimulatedFileSystem(new Random(3));
        MemberStorage.Open(disk, NodeCluster.DataDirectory, NodeCluster.Identity(1)).Dispose();
        var store = new MvccStore();

        Assert.Throws<StorageRefusedException>(() =>
            MemberRestore.CreateDataDirectory(disk, NodeCluster.DataDirectory, NodeCluster.Identity(1), NewMembers([1, 2, 3]), store.Snapshot()));
    }

    [Fact]
    public void Restore_OfAKeyspaceThatDoesNotDecode_OrVotersWithoutTheMember_IsRejected()
    {
        var keyspace = new MvccStore().Snapshot();
        keyspace[^1] ^= 1;
        Assert.Throws<ArgumentException>(() =>
            MemberRestore.CreateDataDirectory(new SimulatedFileSystem(new Random(4)), NodeCluster.DataDirectory, NodeCluster.Identity(1), NewMembers([1, 2, 3]), keyspace));
        Assert.Throws<ArgumentException>(() =>
            MemberRestore.CreateDataDirectory(new SimulatedFileSystem(new Random(4)), NodeCluster.DataDirectory, NodeCluster.Identity(9), NewMembers([1, 2, 3]), new MvccStore().Snapshot()));
    }
}
