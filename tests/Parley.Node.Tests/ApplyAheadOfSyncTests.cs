using System.Text;
using Parley.Mvcc;

namespace Parley.Node.Tests;

/// <summary>
/// Under load a turn brings both acknowledgements (which commit earlier entries) and new proposals: the committed
/// entries are applied and answered before the new ones are synced, not one sync later (ClusterNode.HandleReady).
/// </summary>
public class ApplyAheadOfSyncTests
{
    [Fact]
    public void ALeaderAnswersCommittedWritesBeforeItSyncsTheNextOnes()
    {
        using var cluster = new NodeCluster();
        var leader = cluster.Leader();
        cluster.Put(leader, "warm", 0);
        var disk = cluster.Disk(leader);
        WriteResult? first = null;
        long syncsWhenFirstAnswered = -1;
        var firstAheadOfSync = 0;
        cluster.Node(leader).AppliedAheadOfSync = () => firstAheadOfSync += first is null ? 0 : 1;

        cluster.Node(leader).SubmitWrite(Put("a"), result => (first, syncsWhenFirstAnswered) = (result, disk.FileSyncCount));
        cluster.Process(leader); // proposes "a" and syncs it; the appends are on the way
        cluster.DeliverInFlight();
        foreach (var follower in cluster.Live.Where(id => id != leader))
        {
            cluster.Process(follower); // they sync "a" and acknowledge it
        }
        cluster.DeliverInFlight(); // the acknowledgements reach the leader; its next turn handles them
        Assert.Null(first);

        WriteResult? second = null;
        cluster.Node(leader).SubmitWrite(Put("b"), result => second = result);
        var syncsBefore = disk.FileSyncCount;
        cluster.Process(leader); // one Ready: "a" committed, "b" to sync

        Assert.NotNull(first);
        Assert.Equal(NodeError.None, first.Value.Error);
        Assert.Equal(syncsBefore, syncsWhenFirstAnswered); // answered before "b" was synced
        Assert.Equal(syncsBefore + 1, disk.FileSyncCount); // which happened in the same turn
        Assert.Equal(1, firstAheadOfSync); // and the host was told so, after the answer
        Assert.Null(second);

        // The followers get "b" together with the news that "a" committed: they apply "a" before they sync "b".
        foreach (var follower in cluster.Live.Where(id => id != leader))
        {
            var followerDisk = cluster.Disk(follower);
            (long Syncs, long Keys)? seenAhead = null;
            cluster.Node(follower).AppliedAheadOfSync = () => seenAhead = (followerDisk.FileSyncCount, Keys(cluster.Node(follower)));
            var followerSyncs = followerDisk.FileSyncCount;
            cluster.DeliverInFlight();
            cluster.Process(follower);
            Assert.Equal((followerSyncs, 1L), seenAhead);
            Assert.Equal(followerSyncs + 1, followerDisk.FileSyncCount);
        }

        cluster.Settle();
        Assert.NotNull(second);
        Assert.Equal(NodeError.None, second.Value.Error);
        foreach (var member in cluster.Live)
        {
            Assert.Equal(2L, Keys(cluster.Node(member)));
        }
    }

    [Fact]
    public void ALoneWriteIsAnsweredBeforeTheFollowersAreToldItCommitted()
    {
        using var cluster = new NodeCluster();
        var leader = cluster.Leader();
        cluster.Put(leader, "warm", 0);
        cluster.Settle();
        WriteResult? answer = null;
        var sentWhenAnswered = -1;
        cluster.Node(leader).SubmitWrite(Put("a"), result => (answer, sentWhenAnswered) = (result, cluster.Sent.Count));
        cluster.Process(leader);
        cluster.DeliverInFlight();
        foreach (var follower in cluster.Live.Where(id => id != leader))
        {
            cluster.Process(follower);
        }
        cluster.DeliverInFlight();
        var sentBefore = cluster.Sent.Count;

        cluster.Process(leader); // "a" commits: answered first, then one commit-only append per follower

        Assert.Equal(NodeError.None, answer!.Value.Error);
        Assert.Equal(sentBefore, sentWhenAnswered);
        Assert.Equal(sentBefore + 2, cluster.Sent.Count);
        cluster.DeliverInFlight();
        foreach (var follower in cluster.Live.Where(id => id != leader))
        {
            cluster.Process(follower); // applies "a" and answers nothing
        }
        Assert.Equal(sentBefore + 2, cluster.Sent.Count);
        foreach (var member in cluster.Live)
        {
            Assert.Equal(1L, Keys(cluster.Node(member)));
        }
    }

    /// <summary>How many of the test's keys ("a", "b") the member's keyspace holds.</summary>
    private static long Keys(ClusterNode node) =>
        node.Store.Range(new RangeRequest { Key = Encoding.UTF8.GetBytes("a"), RangeEnd = Encoding.UTF8.GetBytes("c"), CountOnly = true }).Value!.Count;

    private static WriteCommand Put(string key) =>
        WriteCommand.Put(new PutRequest { Key = Encoding.UTF8.GetBytes(key), Value = [1] });
}
