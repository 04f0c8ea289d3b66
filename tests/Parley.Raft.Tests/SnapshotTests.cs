using Parley.Raft;
using Parley.Raft.Tests.Harness;

namespace Parley.Raft.Tests;

/// <summary>Log compaction and InstallSnapshot (Raft §7).</summary>
public sealed class SnapshotTests
{
    private static readonly ConfigState ThreeVoters = new([1, 2, 3], []);

    private static Message InstallSnapshot(ulong term, ulong index, ulong snapshotTerm) => new()
    {
        Type = MessageType.InstallSnapshot, From = 2, To = 1, Term = term,
        Snapshot = new Snapshot(new SnapshotMetadata(index, snapshotTerm, ThreeVoters), new byte[] { 1 }),
    };

    [Fact]
    public void Follower_BehindCompaction_GetsSnapshot_Restores_AndCatchesUp()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        cluster.Isolate(3);
        for (var i = 0; i < 10; i++)
        {
            cluster.Propose(1, $"v{i}");
        }
        cluster.Stabilize();
        Assert.Equal(11UL, leader.AppliedIndex);
        leader.Snapshot(compactIndex: 11);
        Assert.Equal(12UL, leader.Storage.FirstIndex);
        cluster.Heal();
        cluster.Tick(1, 3);
        var snapshot = Assert.Single(cluster.Sent, m => m.Type == MessageType.InstallSnapshot);
        Assert.Equal((3UL, 11UL), (snapshot.To, snapshot.Snapshot!.Metadata.Index));
        var follower = cluster[3];
        Assert.Equal(11UL, follower.Storage.Snapshot.Metadata.Index);
        Assert.Equal(11UL, follower.RestoredSnapshotIndex);
        Assert.Equal(ThreeVoters, follower.Raft.Config);
        Assert.Equal(ProgressState.Replicate, leader.Raft.Progress[3].State);
        // After the snapshot, new entries flow as appends.
        cluster.Propose(1, "after");
        cluster.Stabilize();
        cluster.Tick(1);
        Assert.Equal(12UL, follower.AppliedIndex);
        Assert.Equal("12/1 \"after\"", Describe.Entry(follower.Applied[^1]));
        Assert.Single(cluster.Sent, m => m.Type == MessageType.InstallSnapshot);
    }

    [Fact]
    public void Leader_KeepingMargin_CatchesUpSlightlyLaggingFollower_WithoutSnapshot()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        cluster.Isolate(3);
        for (var i = 0; i < 10; i++)
        {
            cluster.Propose(1, $"v{i}");
        }
        cluster.Stabilize();
        leader.Snapshot(compactIndex: 1);
        cluster.Heal();
        cluster.Tick(1, 3);
        Assert.DoesNotContain(cluster.Sent, m => m.Type == MessageType.InstallSnapshot);
        Assert.Equal(11UL, cluster[3].AppliedIndex);
    }

    [Fact]
    public void Follower_IgnoresSnapshot_OlderThanItsCommitIndex()
    {
        var cluster = new TestCluster(3);
        var follower = cluster.Replace(1, TestCluster.StorageWithLog(ThreeVoters, 2, 1, 1, 2, 2, 2));
        follower.Raft.Step(new Message { Type = MessageType.Heartbeat, From = 2, To = 1, Term = 2, Commit = 5 });
        cluster.ProcessReady(1);
        Assert.Equal(5UL, follower.Raft.Log.Committed);
        follower.Raft.Step(InstallSnapshot(term: 2, index: 3, snapshotTerm: 2));
        var ready = follower.Raft.GetReady();
        Assert.Null(ready.Snapshot);
        var response = Assert.Single(ready.MessagesAfterPersist);
        Assert.True(response is { Type: MessageType.AppendResponse, Reject: false, Index: 5 });
        Assert.Equal(5UL, follower.Raft.Log.LastIndex);
    }

    [Fact]
    public void Follower_RestoresSnapshot_ThatConflictsWithItsLog()
    {
        var cluster = new TestCluster(3);
        var follower = cluster.Replace(1, TestCluster.StorageWithLog(ThreeVoters, 2, 1, 1, 2, 2, 2));
        follower.Raft.Step(InstallSnapshot(term: 3, index: 4, snapshotTerm: 3));
        cluster.ProcessReady(1);
        Assert.Equal(4UL, follower.Raft.Log.Committed);
        Assert.Equal(4UL, follower.Raft.Log.LastIndex);
        Assert.Equal(4UL, follower.Storage.Snapshot.Metadata.Index);
        Assert.Equal(5UL, follower.Storage.FirstIndex);
        Assert.Equal(4UL, follower.RestoredSnapshotIndex);
        var response = Assert.Single(follower.Readies[^1].MessagesAfterPersist);
        Assert.True(response is { Type: MessageType.AppendResponse, Index: 4, Reject: false });
    }

    [Fact]
    public void Follower_HoldingSnapshotsLastEntry_FastForwardsCommit_WithoutRestoring()
    {
        var cluster = new TestCluster(3);
        var follower = cluster.Replace(1, TestCluster.StorageWithLog(ThreeVoters, 2, 1, 1, 2, 2));
        follower.Raft.Step(InstallSnapshot(term: 2, index: 4, snapshotTerm: 2));
        var ready = follower.Raft.GetReady();
        Assert.Null(ready.Snapshot);
        Assert.Equal(4UL, follower.Raft.Log.Committed);
        Assert.Equal(4UL, ready.CommittedEntries.Count > 0 ? ready.CommittedEntries[^1].Index : 0);
    }

    [Fact]
    public void RestartedFollower_StartsFromItsSnapshot()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        for (var i = 0; i < 5; i++)
        {
            cluster.Propose(1, $"v{i}");
        }
        cluster.Stabilize();
        cluster.Tick(1);
        var follower = cluster[2];
        follower.Snapshot(compactIndex: 4);
        follower.Restart();
        Assert.Equal(6UL, follower.Raft.Log.Committed);
        cluster.Stabilize();
        // Only what follows the snapshot is applied again.
        Assert.Equal([5UL, 6UL], follower.Applied.Select(e => e.Index).Where(i => i > 4));
        Assert.Equal(leader.Raft.Log.LastIndex, follower.Raft.Log.LastIndex);
    }
}
