using Parley.Raft;
using Parley.Raft.Tests.Harness;

namespace Parley.Raft.Tests;

/// <summary>Linearizable reads through ReadIndex (Raft dissertation §6.4) with batched leadership rounds.</summary>
public sealed class ReadIndexTests
{
    private static int Heartbeats(TestCluster cluster, int from) =>
        cluster.Sent.Skip(from).Count(m => m.Type == MessageType.Heartbeat);

    [Fact]
    public void Reads_ArrivingDuringARound_AreServedTogether_ByOneNextRound()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        cluster.Propose(1, "x");
        cluster.Stabilize();
        var sentBefore = cluster.Sent.Count;
        Assert.True(leader.Raft.ReadIndex(1));
        cluster.ProcessReady(1);
        Assert.Equal(2, Heartbeats(cluster, sentBefore));
        // Nine more reads arrive while the first round is out: they wait for the next one.
        for (ulong request = 2; request <= 10; request++)
        {
            Assert.True(leader.Raft.ReadIndex(request));
        }
        cluster.ProcessReady(1);
        Assert.Equal(2, Heartbeats(cluster, sentBefore));
        Assert.Equal(10, leader.Raft.PendingReadCount);
        cluster.Stabilize();
        // Two rounds in all: the first read's, then one shared by the nine.
        Assert.Equal(4, Heartbeats(cluster, sentBefore));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (ulong)i), leader.ReadStates.Select(r => r.RequestId).Order());
        Assert.All(leader.ReadStates, r => Assert.Equal(2UL, r.Index));
        Assert.Equal(0, leader.Raft.PendingReadCount);
    }

    [Fact]
    public void Read_IsNotServed_BeforeAQuorumConfirmsLeadership()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        cluster.Isolate(1);
        leader.Raft.ReadIndex(1);
        cluster.Stabilize();
        Assert.Empty(leader.ReadStates);
        cluster.Heal();
        cluster.Tick(1);
        Assert.Equal(new ReadState(1, 1), Assert.Single(leader.ReadStates));
    }

    [Fact]
    public void Reads_AreHeld_UntilTheLeaderCommitsAnEntryOfItsTerm()
    {
        var cluster = new TestCluster(3, configure: o => o with { PreVote = false, CheckQuorum = false });
        cluster.Elect(1);
        cluster.Propose(1, "x");
        cluster.Stabilize();
        // Member 2 takes over but its no-op (index 3) does not reach anyone yet.
        cluster.DropWhen = m => m.Type == MessageType.Append;
        var leader = cluster.Elect(2);
        Assert.True(leader.Raft.Log.Committed < 3);
        var sentBefore = cluster.Sent.Count;
        Assert.True(leader.Raft.ReadIndex(7));
        cluster.Stabilize();
        Assert.Equal(0, Heartbeats(cluster, sentBefore));
        Assert.Equal(1, leader.Raft.PendingReadCount);
        cluster.DropWhen = null;
        cluster.Tick(2);
        Assert.Equal(new ReadState(3, 7), Assert.Single(leader.ReadStates));
    }

    [Fact]
    public void FollowerRead_IsForwardedToTheLeader_AndReturnsAReadState()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, "x");
        cluster.Stabilize();
        Assert.True(cluster[2].Raft.ReadIndex(42));
        var ready = cluster[2].Raft.GetReady();
        var request = Assert.Single(ready.MessagesAfterPersist);
        Assert.True(request is { Type: MessageType.ReadIndex, To: 1, Context: 42 });
        cluster[2].Persist(ready);
        cluster[2].ApplyAndAdvance(ready);
        cluster[1].Raft.Step(request);
        cluster.Stabilize();
        Assert.Equal(new ReadState(2, 42), Assert.Single(cluster[2].ReadStates));
        Assert.Empty(cluster[1].ReadStates);
    }

    [Fact]
    public void FollowerWithoutLeader_RefusesRead()
    {
        var cluster = new TestCluster(3);
        Assert.False(cluster[2].Raft.ReadIndex(1));
        Assert.False(cluster[2].Raft.HasReady);
    }

    [Fact]
    public void SingleVoter_ServesRead_AtOnce_WithoutMessages()
    {
        var cluster = new TestCluster(1);
        var leader = cluster.Elect(1);
        cluster.Stabilize();
        Assert.True(leader.Raft.ReadIndex(9));
        var ready = leader.Raft.GetReady();
        Assert.Equal(new ReadState(1, 9), Assert.Single(ready.ReadStates));
        Assert.Empty(ready.Messages);
        Assert.Empty(ready.MessagesAfterPersist);
    }

    [Fact]
    public void PendingReads_AreDropped_WhenTheLeaderStepsDown()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        cluster.Isolate(1);
        leader.Raft.ReadIndex(1);
        leader.Raft.Step(new Message { Type = MessageType.Heartbeat, From = 2, To = 1, Term = leader.Raft.Term + 1 });
        Assert.Equal(0, leader.Raft.PendingReadCount);
    }
}
