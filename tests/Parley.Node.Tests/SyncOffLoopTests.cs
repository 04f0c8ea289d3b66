using System.Text;
using Parley.Mvcc;
using Parley.Raft;

namespace Parley.Node.Tests;

/// <summary>
/// NodeOptions.SyncOffLoop (ADR 0005): the node hands each WAL batch to a syncer and goes on; what the batch's Ready
/// promised (acknowledgements, the leader's own count toward a commit) waits for its completion.
/// </summary>
public class SyncOffLoopTests
{
    [Fact]
    public void AFollowerAcknowledges_OnlyOnceItsSyncCompletes()
    {
        var (cluster, leader, follower, acks, syncs) = FollowerWithItsSyncHeld();
        using var _ = cluster;
        var disk = cluster.Disk(follower);
        Assert.Equal(1, cluster.HeldSyncs(leader));
        Assert.True(cluster.Node(follower).SyncInFlight);
        Assert.Equal(syncs, disk.FileSyncCount);
        Assert.DoesNotContain(acks, ack => ack.From == follower);

        cluster.CompleteSyncs(follower);
        Assert.False(cluster.Node(follower).SyncInFlight);
        Assert.Equal(syncs + 1, disk.FileSyncCount);
        Assert.Contains(acks, ack => ack.From == follower && !ack.Reject && ack.Index >= 3);
    }

    [Fact]
    public void ALeaderCommitsOnItsFollowersSyncs_AndAWriteItNeverSyncedSurvivesItsCrash()
    {
        using var cluster = new NodeCluster(syncOffLoop: true);
        var leader = cluster.Leader();
        cluster.Put(leader, "warm", 0);
        cluster.HoldSyncs = true;

        WriteResult? result = null;
        cluster.Node(leader).SubmitWrite(Put("a"), outcome => result = outcome);
        cluster.Process(leader);
        cluster.DeliverInFlight();
        foreach (var follower in cluster.Live.Where(id => id != leader))
        {
            cluster.Process(follower);
            cluster.CompleteSyncs(follower);
        }
        cluster.DeliverInFlight(); // both acknowledgements reach the leader, whose own batch is still held
        cluster.Process(leader);

        Assert.Equal(1, cluster.HeldSyncs(leader));
        Assert.NotNull(result);
        Assert.Equal(NodeError.None, result.Value.Error);
        Assert.Equal(1L, Keys(cluster.Node(leader), "a"));

        // Power loss before the leader's sync: its disk never had "a"; the followers' copies bring it back.
        cluster.CrashAndRestart(leader);
        cluster.HoldSyncs = false;
        cluster.Tick(5 * NodeCluster.ElectionTimeoutTicks);
        cluster.Put(cluster.Leader(), "b", 0);
        foreach (var member in cluster.Live)
        {
            Assert.Equal(1L, Keys(cluster.Node(member), "a"));
            Assert.Equal(1L, Keys(cluster.Node(member), "b"));
        }
    }

    [Fact]
    public void AnInlineSync_FinishesTheBatchInFlightFirst_AndReleasesWhatWaitedOnIt()
    {
        var (cluster, leader, follower, acks, _) = FollowerWithItsSyncHeld();
        using var _ = cluster;
        Assert.DoesNotContain(acks, ack => ack.From == follower);

        cluster.Node(follower).CompactStorage(); // a snapshot's WAL marker: synced inline, after the batch in flight
        Assert.False(cluster.Node(follower).SyncInFlight);
        Assert.Contains(acks, ack => ack.From == follower && !ack.Reject);
        var syncs = cluster.Disk(follower).FileSyncCount;
        cluster.CompleteSyncs(follower); // the syncer comes to it late: nothing left to write, the report is ignored
        Assert.Equal(syncs, cluster.Disk(follower).FileSyncCount);

        cluster.HoldSyncs = false;
        cluster.Settle();
        cluster.Put(leader, "b", 0);
        Assert.Equal(1L, Keys(cluster.Node(follower), "a"));
    }

    /// <summary>
    /// Syncs held from here: the leader proposed "a" and handed its batch over, a follower appended "a" and handed its
    /// batch over. Returns the follower's file syncs before its turn and the acknowledgements sent so far (none).
    /// </summary>
    private static (NodeCluster Cluster, ulong Leader, ulong Follower, List<Message> Acks, long FollowerSyncs) FollowerWithItsSyncHeld()
    {
        var cluster = new NodeCluster(syncOffLoop: true);
        var leader = cluster.Leader();
        cluster.Put(leader, "warm", 0);
        cluster.HoldSyncs = true;
        var acks = RecordAcknowledgements(cluster);
        cluster.Node(leader).SubmitWrite(Put("a"), _ => { });
        cluster.Process(leader);
        cluster.DeliverInFlight();
        var follower = cluster.Follower();
        var syncs = cluster.Disk(follower).FileSyncCount;
        cluster.Process(follower);
        return (cluster, leader, follower, acks, syncs);
    }

    private static List<Message> RecordAcknowledgements(NodeCluster cluster)
    {
        var acks = new List<Message>();
        cluster.DropMessageWhen = message =>
        {
            if (message.Type == MessageType.AppendResponse)
            {
                acks.Add(message);
            }
            return false;
        };
        return acks;
    }

    private static long Keys(ClusterNode node, string key) =>
        node.Store.Range(new RangeRequest { Key = Encoding.UTF8.GetBytes(key), CountOnly = true }).Value!.Count;

    private static WriteCommand Put(string key) =>
        WriteCommand.Put(new PutRequest { Key = Encoding.UTF8.GetBytes(key), Value = [1] });
}
