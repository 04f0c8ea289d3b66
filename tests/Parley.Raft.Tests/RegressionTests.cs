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
}
