using Parley.Raft;
using Parley.Raft.Tests.Harness;

namespace Parley.Raft.Tests;

/// <summary>
/// The host contract of <see cref="Ready"/>: term, vote and entries are durable before a vote or an acknowledgement
/// leaves; the leader may send before its own write is durable but counts itself only once it is.
/// </summary>
public sealed class PersistenceContractTests
{
    [Fact]
    public void VoteResponse_LeavesOnlyAfterPersist_WithTheVoteInTheSameReady()
    {
        var cluster = new TestCluster(3, configure: o => o with { PreVote = false });
        cluster[2].Raft.Campaign(transfer: false);
        cluster.ProcessReady(2);
        cluster.Deliver(m => m.To == 1);
        var ready = cluster[1].Raft.GetReady();
        Assert.DoesNotContain(ready.Messages, m => m.Type == MessageType.VoteResponse);
        var vote = Assert.Single(ready.MessagesAfterPersist);
        Assert.True(vote is { Type: MessageType.VoteResponse, Reject: false, To: 2 });
        Assert.Equal(new HardState(1, 2, 0), ready.HardState);
        Assert.True(ready.MustSync);
    }

    [Fact]
    public void PreVoteResponse_PromisesNothing_AndMayLeaveAtOnce()
    {
        var cluster = new TestCluster(3);
        cluster[2].Raft.Campaign(transfer: false);
        cluster.ProcessReady(2);
        cluster.Deliver(m => m.To == 1);
        var ready = cluster[1].Raft.GetReady();
        Assert.Contains(ready.Messages, m => m.Type == MessageType.PreVoteResponse && !m.Reject);
        Assert.Null(ready.HardState);
    }

    [Fact]
    public void AppendAck_LeavesOnlyAfterPersist_WithTheEntriesInTheSameReady()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, "x");
        cluster.ProcessReady(1);
        cluster.Deliver(m => m.To == 2);
        var ready = cluster[2].Raft.GetReady();
        Assert.DoesNotContain(ready.Messages, m => m.Type == MessageType.AppendResponse);
        var ack = Assert.Single(ready.MessagesAfterPersist);
        Assert.True(ack is { Type: MessageType.AppendResponse, Reject: false, Index: 2 });
        Assert.Equal("2/1 \"x\"", Describe.Entries(ready.Entries));
        Assert.True(ready.MustSync);
    }

    [Fact]
    public void Leader_SendsAppends_BeforeItsOwnWriteIsDurable()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, "x");
        var ready = cluster[1].Raft.GetReady();
        Assert.Single(ready.Entries);
        Assert.Equal(2, ready.Messages.Count(m => m.Type == MessageType.Append && m.Entries.Length == 1));
        Assert.Empty(ready.MessagesAfterPersist);
    }

    [Fact]
    public void Leader_CountsItselfTowardCommit_OnlyAfterAdvance()
    {
        // The leader's Ready is sent but not yet persisted.
        var (cluster, leader, ready) = LeaderWithProposal();
        foreach (var message in ready.Messages.Where(m => m.To == 2))
        {
            cluster[2].Raft.Step(message);
        }
        cluster.ProcessReady(2);
        var acks = cluster.Deliver(m => m.To == 1);
        Assert.Contains(acks, m => m is { Type: MessageType.AppendResponse, Index: 2 });
        // One follower plus an undurable leader is not a quorum of three.
        Assert.Equal(2UL, leader.Raft.Progress[2].Match);
        Assert.Equal(1UL, leader.Raft.Log.Committed);
        leader.Persist(ready);
        leader.ApplyAndAdvance(ready);
        Assert.Equal(2UL, leader.Raft.Log.Committed);
        // And the new commit index goes out to the followers.
        Assert.Contains(leader.Raft.GetReady().Messages, m => m is { Type: MessageType.Append, Commit: 2 });
    }

    [Fact]
    public void Leader_MayCommit_BeforeItsOwnWrite_WhenFollowersAloneFormQuorum()
    {
        var (cluster, leader, ready) = LeaderWithProposal();
        ReplicateThroughBothFollowers(cluster, ready);
        Assert.Equal(2UL, leader.Raft.Log.Committed);
    }

    [Fact]
    public void Follower_CrashingBeforePersist_LosesTheEntries_AndNeverAcknowledgedThem()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        cluster.Isolate(3);
        cluster.Propose(1, "x");
        cluster.ProcessReady(1);
        cluster.Deliver(m => m.To == 2);
        var ready = cluster[2].Raft.GetReady();
        Assert.Single(ready.Entries);
        // Crash: the Ready is dropped on the floor, including its acknowledgement.
        cluster[2].Restart();
        Assert.Equal(1UL, cluster[2].Raft.Log.LastIndex);
        cluster.Stabilize();
        Assert.Equal(1UL, leader.Raft.Log.Committed);
        // The leader finds out through the next heartbeat and sends the entry again.
        cluster.Tick(1);
        Assert.Equal(2UL, leader.Raft.Log.Committed);
        Assert.Equal(2UL, cluster[2].Raft.Log.LastIndex);
    }

    [Fact]
    public void Restart_RecoversTermVoteLogAndCommit_FromStorage()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, "x");
        cluster.Stabilize();
        cluster.Tick(1);
        var before = cluster[2].Raft.HardState;
        cluster[2].Restart();
        var raft = cluster[2].Raft;
        Assert.Equal(before, raft.HardState);
        Assert.Equal(2UL, raft.Log.LastIndex);
        Assert.Equal(RaftRole.Follower, raft.Role);
        // Committed entries are handed out again to a state machine that restarts empty.
        cluster.Stabilize();
        Assert.Equal(2UL, cluster[2].AppliedIndex);
    }

    [Fact]
    public void CommitOnlyChange_DoesNotRequireSync()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        cluster.Propose(1, "x");
        cluster.ProcessReady(1);
        cluster.Deliver(m => m.To == 2);
        cluster.ProcessReady(2);
        cluster.Deliver(m => m.To == 1);
        cluster.ProcessReady(1);
        cluster.Deliver(m => m.To == 2);
        var ready = cluster[2].Raft.GetReady();
        Assert.Equal(2UL, ready.HardState?.Commit);
        Assert.Empty(ready.Entries);
        Assert.False(ready.MustSync);
    }

    // The asynchronous path (docs/adr/0005): AdvanceWritten when the entries are written, Persisted when their sync is done.

    [Fact]
    public void AdvanceWritten_HandsTheEntriesOverOnce_AndTheLeaderCountsThemOnlyWhenPersisted()
    {
        var (cluster, leader, ready) = LeaderWithProposal();
        Assert.Equal("2/1 \"x\"", Describe.Entries(ready.Entries));
        leader.Persist(ready); // written; its sync still running
        leader.Raft.AdvanceWritten(ready);
        Assert.False(leader.Raft.HasReady); // the entry is not handed over again
        Assert.Equal(1UL, leader.Raft.Log.PersistedIndex);
        foreach (var message in ready.Messages.Where(m => m.To == 2))
        {
            cluster[2].Raft.Step(message);
        }
        cluster.ProcessReady(2);
        cluster.Deliver(m => m.To == 1);
        // One durable follower and a leader whose sync has not finished are not a quorum of three.
        Assert.Equal(2UL, leader.Raft.Progress[2].Match);
        Assert.Equal(1UL, leader.Raft.Log.Committed);
        leader.Raft.Persisted(2, 1);
        Assert.Equal(2UL, leader.Raft.Log.PersistedIndex);
        Assert.Equal(2UL, leader.Raft.Log.Committed);
        Assert.Contains(leader.Raft.GetReady().Messages, m => m is { Type: MessageType.Append, Commit: 2 });
    }

    [Fact]
    public void AdvanceWritten_TwoDurableFollowers_CommitBeforeTheLeadersSyncIsDone()
    {
        var (cluster, leader, ready) = LeaderWithProposal();
        leader.Persist(ready);
        leader.Raft.AdvanceWritten(ready);
        ReplicateThroughBothFollowers(cluster, ready);
        Assert.Equal(1UL, leader.Raft.Log.PersistedIndex);
        Assert.Equal(2UL, leader.Raft.Log.Committed);
        leader.Raft.Persisted(2, 1); // late, and harmless
        Assert.Equal(2UL, leader.Raft.Log.Committed);
    }

    [Fact]
    public void Persisted_OfEntriesReplacedMeanwhile_IsIgnored_AndTheirReplacementsAreHandedOver()
    {
        var storage = new MemoryStorage();
        var log = new RaftLog(storage);
        Entry[] written = [E(1, 1), E(2, 1), E(3, 1)];
        log.Append(written);
        Assert.Equal([1UL, 2UL, 3UL], log.EntriesToPersist().Select(e => e.Index));
        storage.Append(written);
        log.HandedOffTo(3, 1);
        Assert.False(log.HasEntriesToPersist);
        // A newer leader's entry replaces 2 and 3 before the sync of 1-3 is reported.
        log.Append([E(2, 2)]);
        Assert.Equal("2/2", Assert.Single(log.EntriesToPersist()).ToString());
        log.StableTo(3, 1); // the sync of 1-3 reported: 3 is no longer in the log
        Assert.Equal(0UL, log.PersistedIndex);
        Assert.Equal(2UL, log.LastIndex);
        storage.Append([E(2, 2)]);
        log.HandedOffTo(2, 2);
        Assert.False(log.HasEntriesToPersist);
        log.StableTo(2, 2);
        Assert.Equal(2UL, log.PersistedIndex);
        Assert.Equal(2UL, log.TermOrZero(2));
    }

    [Fact]
    public void AdvanceWritten_RefusesAReadyWithASnapshot()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        var ready = new Ready { Snapshot = new Snapshot(new SnapshotMetadata(5, 1, cluster[1].Storage.Snapshot.Metadata.Config), new byte[] { 1 }) };
        Assert.Throws<InvariantViolationException>(() => leader.Raft.AdvanceWritten(ready));
    }

    /// <summary>Three members; leader 1 proposed "x" (index 2) and took the Ready for it, not advanced yet.</summary>
    private static (TestCluster Cluster, TestNode Leader, Ready Ready) LeaderWithProposal()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        cluster.Propose(1, "x");
        return (cluster, leader, leader.Raft.GetReady());
    }

    /// <summary>The leader's appends reach both followers, which persist and acknowledge; the acknowledgements reach it.</summary>
    private static void ReplicateThroughBothFollowers(TestCluster cluster, Ready ready)
    {
        foreach (var message in ready.Messages)
        {
            cluster[message.To].Raft.Step(message);
        }
        cluster.ProcessReady(2);
        cluster.ProcessReady(3);
        cluster.Deliver(m => m.To == 1);
    }

    private static Entry E(ulong index, ulong term) => new(term, index, EntryType.Normal, new byte[] { (byte)index });
}
