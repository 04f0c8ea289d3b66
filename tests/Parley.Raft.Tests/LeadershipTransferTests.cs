using Parley.Raft;
using Parley.Raft.Tests.Harness;

namespace Parley.Raft.Tests;

/// <summary>Leadership transfer (Raft dissertation §3.10): catch the target up, then TimeoutNow.</summary>
public sealed class LeadershipTransferTests
{
    [Fact]
    public void Transfer_CatchesTheTargetUpFirst_ThenSendsTimeoutNow_AndTheTargetWins()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        cluster.DropWhen = m => m.Type == MessageType.Append && m.To == 3;
        for (var i = 0; i < 3; i++)
        {
            cluster.Propose(1, $"v{i}");
        }
        cluster.Stabilize();
        cluster.DropWhen = null;
        var term = leader.Raft.Term;
        leader.Raft.TransferLeadership(3);
        Assert.Equal(3UL, leader.Raft.TransferTarget);
        var ready = cluster.ProcessReady(1)!;
        Assert.DoesNotContain(ready.Messages, m => m.Type == MessageType.TimeoutNow);
        Assert.Contains(ready.Messages, m => m is { Type: MessageType.Append, To: 3 });
        cluster.Stabilize();
        var timeoutNow = Assert.Single(cluster.Sent, m => m.Type == MessageType.TimeoutNow);
        Assert.Equal(3UL, timeoutNow.To);
        Assert.Equal(new ulong[] { 3 }, cluster.Leaders());
        Assert.Equal(term + 1, cluster[3].Raft.Term);
        // The vote requests skipped pre-vote and carried the transfer marker past the followers' lease.
        Assert.Contains(cluster.Sent, m => m is { Type: MessageType.Vote, From: 3, Context: RaftNode.TransferCampaignContext });
        Assert.DoesNotContain(cluster.Sent, m => m is { Type: MessageType.PreVote, From: 3 });
        Assert.Equal(5UL, cluster[3].Raft.Log.Committed);
    }

    [Fact]
    public void Transfer_ToUpToDateTarget_SendsTimeoutNowAtOnce()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        leader.Raft.TransferLeadership(2);
        var ready = leader.Raft.GetReady();
        Assert.Contains(ready.Messages, m => m is { Type: MessageType.TimeoutNow, To: 2 });
    }

    [Fact]
    public void Transfer_RefusesProposals_WhileInProgress()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        cluster.Isolate(3);
        cluster.Propose(1, "x");
        cluster.Stabilize();
        leader.Raft.TransferLeadership(3);
        Assert.Equal(ProposeStatus.LeadershipTransferInProgress, leader.Raft.Propose(new byte[] { 1 }).Status);
        var change = new ConfigChange(ConfigChangeType.AddLearner, 4, default);
        Assert.Equal(ProposeStatus.LeadershipTransferInProgress, leader.Raft.ProposeConfigChange(change).Status);
    }

    [Fact]
    public void Transfer_IsAbandoned_AfterAnElectionTimeout()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        cluster.Isolate(3);
        cluster.Propose(1, "x");
        cluster.Stabilize();
        leader.Raft.TransferLeadership(3);
        cluster.Tick(1, leader.Options.ElectionTimeoutTicks - 1);
        Assert.Equal(3UL, leader.Raft.TransferTarget);
        cluster.Tick(1);
        Assert.Equal(0UL, leader.Raft.TransferTarget);
        Assert.Equal(RaftRole.Leader, leader.Raft.Role);
        Assert.True(leader.Raft.Propose(new byte[] { 1 }).IsAccepted);
    }

    [Fact]
    public void TransferRequest_OnFollower_IsForwardedToTheLeader()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster[2].Raft.TransferLeadership(2);
        cluster.Stabilize();
        Assert.Equal(new ulong[] { 2 }, cluster.Leaders());
    }

    [Fact]
    public void Transfer_ToNonVoter_IsIgnored()
    {
        var cluster = new TestCluster(2, learners: 1);
        var leader = cluster.Elect(1);
        leader.Raft.TransferLeadership(3);
        Assert.Equal(0UL, leader.Raft.TransferTarget);
        leader.Raft.TransferLeadership(1);
        Assert.Equal(0UL, leader.Raft.TransferTarget);
    }
}
