using Parley.Raft;
using Parley.Raft.Tests.Harness;

namespace Parley.Raft.Tests;

/// <summary>Single-member configuration changes, learners, promotion and removal.</summary>
public sealed class MembershipTests
{
    private static ConfigChange Change(ConfigChangeType type, ulong id) => new(type, id, default);

    private static ulong ProposeChange(TestCluster cluster, ulong leader, ConfigChangeType type, ulong id)
    {
        var result = cluster[leader].Raft.ProposeConfigChange(Change(type, id));
        Assert.True(result.IsAccepted, $"config change refused: {result.Status}");
        return result.Index;
    }

    [Fact]
    public void Learner_ReceivesTheLog_ButNeitherVotesNorCountsTowardCommit()
    {
        var cluster = new TestCluster(2, learners: 1);
        var leader = cluster.Elect(1);
        Assert.DoesNotContain(cluster.Sent, m => m.To == 3 && m.Type is MessageType.Vote or MessageType.PreVote);
        cluster.Isolate(2);
        var index = cluster.Propose(1, "x");
        cluster.Stabilize();
        Assert.Equal(index, cluster[3].Raft.Log.LastIndex);
        Assert.Equal(index, leader.Raft.Progress[3].Match);
        // Leader and learner hold the entry: not a quorum of the two voters.
        Assert.True(leader.Raft.Log.Committed < index);
        cluster.Heal();
        cluster.Tick(1);
        Assert.Equal(index, cluster[3].AppliedIndex);
    }

    [Fact]
    public void Learner_NeverCampaigns_ButVotesWhenAsked()
    {
        var cluster = new TestCluster(2, learners: 1);
        var learner = cluster[3].Raft;
        Assert.False(learner.IsPromotable);
        for (var i = 0; i < 100; i++)
        {
            learner.Tick();
        }
        Assert.Equal(RaftRole.Follower, learner.Role);
        // A candidate that asks counts it as a voter: it may have been promoted without knowing yet.
        learner.Step(new Message { Type = MessageType.Vote, From = 1, To = 3, Term = 1 });
        var response = Assert.Single(learner.GetReady().MessagesAfterPersist);
        Assert.False(response.Reject);
        Assert.Equal(1UL, learner.Vote);
    }

    [Fact]
    public void PromotedLearner_CountsTowardQuorum()
    {
        var cluster = new TestCluster(2, learners: 1);
        cluster.Elect(1);
        ProposeChange(cluster, 1, ConfigChangeType.AddVoter, 3);
        cluster.Stabilize();
        cluster.Tick(1);
        Assert.All(cluster.Nodes, n => Assert.Equal(new ConfigState([1, 2, 3], []), n.Raft.Config));
        Assert.True(cluster[3].Raft.IsPromotable);
        cluster.Isolate(2);
        var index = cluster.Propose(1, "x");
        cluster.Stabilize();
        Assert.Equal(index, cluster[1].Raft.Log.Committed);
    }

    [Fact]
    public void NewMember_JoinsEmpty_LearnsTheLogAndMembership_ThenIsPromoted()
    {
        var cluster = new TestCluster(3, bootstrap: true);
        Assert.All(cluster.Nodes, n => Assert.Equal(new ConfigState([1, 2, 3], []), n.Raft.Config));
        cluster.Elect(1);
        cluster.Propose(1, "before");
        ProposeChange(cluster, 1, ConfigChangeType.AddLearner, 4);
        cluster.Add(4, new MemoryStorage());
        cluster.Stabilize();
        cluster.Tick(1, 2);
        var joiner = cluster[4];
        Assert.Equal(cluster[1].Raft.Log.LastIndex, joiner.Raft.Log.LastIndex);
        Assert.Equal(new ConfigState([1, 2, 3], [4]), joiner.Raft.Config);
        ProposeChange(cluster, 1, ConfigChangeType.AddVoter, 4);
        cluster.Stabilize();
        cluster.Tick(1);
        Assert.All(cluster.Nodes, n => Assert.Equal(new ConfigState([1, 2, 3, 4], []), n.Raft.Config));
    }

    [Fact]
    public void RemovedFollower_NoLongerCountsTowardQuorum()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        ProposeChange(cluster, 1, ConfigChangeType.RemoveNode, 3);
        cluster.Stabilize();
        Assert.Equal(new ConfigState([1, 2], []), leader.Raft.Config);
        Assert.False(leader.Raft.Progress.ContainsKey(3));
        cluster.Isolate(3);
        var index = cluster.Propose(1, "x");
        cluster.Stabilize();
        Assert.Equal(index, leader.Raft.Log.Committed);
    }

    [Fact]
    public void RemovedLeader_StepsDown_AndTheRestElectASuccessor()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        var index = ProposeChange(cluster, 1, ConfigChangeType.RemoveNode, 1);
        cluster.Stabilize();
        Assert.Equal(RaftRole.Follower, leader.Raft.Role);
        Assert.False(leader.Raft.IsPromotable);
        Assert.All(cluster.Nodes, n => Assert.True(n.Raft.Log.Committed >= index, $"member {n.Id} committed {n.Raft.Log.Committed}"));
        cluster.TickAll(5 * leader.Options.ElectionTimeoutTicks);
        var successor = Assert.Single(cluster.Leaders());
        Assert.Contains(successor, new ulong[] { 2, 3 });
        Assert.Equal(new ConfigState([2, 3], []), cluster[successor].Raft.Config);
        Assert.True(cluster.Propose(successor, "after") > index);
    }

    [Fact]
    public void OnlyOneConfigChange_MayBePendingAtATime()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1).Raft;
        Assert.True(leader.ProposeConfigChange(Change(ConfigChangeType.AddLearner, 4)).IsAccepted);
        Assert.Equal(ProposeStatus.ConfigChangePending, leader.ProposeConfigChange(Change(ConfigChangeType.AddLearner, 5)).Status);
        cluster.Stabilize();
        Assert.True(leader.ProposeConfigChange(Change(ConfigChangeType.AddLearner, 5)).IsAccepted);
    }

    [Fact]
    public void NewLeader_WithUnappliedEntriesOfEarlierTerms_RefusesConfigChange()
    {
        var cluster = new TestCluster(3, configure: o => o with { PreVote = false, CheckQuorum = false });
        cluster.Elect(1);
        // Entry 2 reaches member 2 but its commit does not.
        cluster.Propose(1, "x");
        cluster.ProcessReady(1);
        cluster.Deliver(m => m.To == 2);
        cluster.ProcessReady(2);
        cluster.DropQueued();
        cluster.DropWhen = m => m.Type == MessageType.Append;
        var leader = cluster.Elect(2);
        Assert.True(leader.Raft.Log.Applied < 2);
        Assert.Equal(ProposeStatus.ConfigChangePending, leader.Raft.ProposeConfigChange(Change(ConfigChangeType.AddLearner, 4)).Status);
        cluster.DropWhen = null;
        cluster.Tick(2);
        Assert.True(leader.Raft.ProposeConfigChange(Change(ConfigChangeType.AddLearner, 4)).IsAccepted);
    }

    [Theory]
    [InlineData(ConfigChangeType.AddVoter, 2UL)] // already a voter
    [InlineData(ConfigChangeType.AddLearner, 2UL)] // already a member
    [InlineData(ConfigChangeType.RemoveNode, 9UL)] // not a member
    [InlineData(ConfigChangeType.AddVoter, 0UL)] // no such id
    public void InvalidConfigChange_IsRefused(ConfigChangeType type, ulong id)
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1).Raft;
        Assert.Equal(ProposeStatus.InvalidConfigChange, leader.ProposeConfigChange(Change(type, id)).Status);
    }

    [Fact]
    public void RemovingTheLastVoter_IsRefused()
    {
        var cluster = new TestCluster(1);
        var leader = cluster.Elect(1).Raft;
        cluster.Stabilize();
        Assert.Equal(ProposeStatus.InvalidConfigChange, leader.ProposeConfigChange(Change(ConfigChangeType.RemoveNode, 1)).Status);
    }
}
