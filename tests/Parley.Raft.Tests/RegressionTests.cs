using Parley.Raft;
using Parley.Raft.Tests.Harness;

namespace Parley.Raft.Tests;

/// <summary>
/// Claims the core once broke (found by these tests, fixed since); each stays as a regression test.
/// </summary>
public sealed class RegressionTests
{
    private static readonly ConfigState ThreeVoters = new([1, 2, 3], []);

    [Fact]
    public void Follower_HoldingSnapshotsLastEntry_AcknowledgesOnlyUpToTheSnapshot()
    {
        var cluster = new TestCluster(3);
        // 3/2 is a stale entry of a deposed term-2 leader; the term-3 leader's snapshot ends at 2/1.
        var follower = cluster.Replace(1, TestCluster.StorageWithLog(ThreeVoters, 2, 1, 1, 2));
        follower.Raft.Step(new Message
        {
            Type = MessageType.InstallSnapshot, From = 2, To = 1, Term = 3,
            Snapshot = new Snapshot(new SnapshotMetadata(2, 1, ThreeVoters), new byte[] { 1 }),
        });
        var response = Assert.Single(follower.Raft.GetReady().MessagesAfterPersist);
        Assert.False(response.Reject);
        Assert.True(response.Index <= 2, $"acknowledged {response.Index}: claims the unverified entry 3/2 matches the leader");
    }

    [Fact]
    public void NewLeader_CannotChangeConfig_UntilItsFirstEntryIsApplied()
    {
        var cluster = new TestCluster(3);
        cluster.DropWhen = m => m.Type == MessageType.Append;
        var leader = cluster.Elect(1).Raft;
        Assert.Equal(0UL, leader.Log.Applied);
        var result = leader.ProposeConfigChange(new ConfigChange(ConfigChangeType.AddLearner, 4, default));
        Assert.Equal(ProposeStatus.ConfigChangePending, result.Status);
    }

    // Found by the node-mode simulator (seeds 23 and 51 of `parley sim --mode node`): learners refused to vote, so
    // a promotion committed on the voters but not yet delivered to the learner left a cluster with one voter down
    // and no quorum that could ever elect a leader.
    [Fact]
    public void PromotedLearner_UnawareOfItsPromotion_VotesForTheCandidateThatNeedsIt()
    {
        var cluster = new TestCluster(2, learners: 1);
        cluster.Elect(1);
        cluster.DropWhen = m => m.To == 3;
        var promotion = cluster[1].Raft.ProposeConfigChange(new ConfigChange(ConfigChangeType.AddVoter, 3, default));
        Assert.True(promotion.IsAccepted);
        cluster.Stabilize();
        cluster.Tick(1);
        Assert.Equal(ThreeVoters, cluster[2].Raft.Config);
        Assert.False(cluster[3].Raft.IsPromotable);

        cluster.DropWhen = null;
        cluster.Isolate(1);
        // Member 2 counts {1,2,3}: with 1 gone, only the unaware learner can give it a quorum.
        for (var i = 0; i < 200 && cluster[2].Raft.Role != RaftRole.Leader; i++)
        {
            cluster.TickAll();
        }
        Assert.Equal(RaftRole.Leader, cluster[2].Raft.Role);
    }
}
