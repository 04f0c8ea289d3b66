using Parley.Raft;
using Parley.Raft.Tests.Harness;

namespace Parley.Raft.Tests;

/// <summary>Leader election (Raft §5.2, §5.4.1) with pre-vote, check-quorum and the leader lease (§9.6).</summary>
public sealed class ElectionTests
{
    private static RaftOptions Plain(RaftOptions options) => options with { PreVote = false, CheckQuorum = false };

    private static Message VoteRequest(ulong from, ulong to, ulong term, ulong lastIndex = 0, ulong lastTerm = 0) =>
        new() { Type = MessageType.Vote, From = from, To = to, Term = term, Index = lastIndex, LogTerm = lastTerm };

    [Fact]
    public void Follower_StartsElection_AfterElectionTimeout()
    {
        var cluster = new TestCluster(3, configure: Plain);
        var node = cluster[1];
        // The randomized timeout lies in [T, 2T): after 2T ticks the follower must have campaigned.
        for (var i = 0; i < 2 * node.Options.ElectionTimeoutTicks && node.Raft.Role == RaftRole.Follower; i++)
        {
            node.Raft.Tick();
        }
        Assert.Equal(RaftRole.Candidate, node.Raft.Role);
        Assert.Equal(1UL, node.Raft.Term);
        Assert.Equal(1UL, node.Raft.Vote);
        var ready = node.Raft.GetReady();
        Assert.Equal(new HardState(1, 1, 0), ready.HardState);
        // The request carries our own vote: it leaves only once that vote is durable.
        var requests = ready.MessagesAfterPersist.Where(m => m.Type == MessageType.Vote).Select(m => m.To).Order();
        Assert.Equal(new ulong[] { 2, 3 }, requests);
        Assert.Empty(ready.Messages);
    }

    [Fact]
    public void Follower_DoesNotCampaign_BeforeElectionTimeout()
    {
        var cluster = new TestCluster(3, configure: Plain);
        var node = cluster[1];
        for (var i = 0; i < node.Options.ElectionTimeoutTicks - 1; i++)
        {
            node.Raft.Tick();
        }
        Assert.Equal(RaftRole.Follower, node.Raft.Role);
        Assert.Equal(0UL, node.Raft.Term);
    }

    [Fact]
    public void Candidate_WinsElection_WithMajorityOfVotes_AndAppendsNoOp()
    {
        var cluster = new TestCluster(5, configure: Plain);
        cluster.Isolate(4);
        cluster.Isolate(5);
        var leader = cluster.Elect(1);
        Assert.Equal(1UL, leader.Raft.Term);
        Assert.Equal(new ulong[] { 1 }, cluster.Leaders());
        // §8: the new leader's empty entry commits once a majority (1, 2, 3) holds it.
        Assert.Equal(1UL, leader.Raft.Log.Committed);
        Assert.True(leader.Raft.Log.TryGetTerm(1, out var term) && term == 1);
    }

    [Fact]
    public void Candidate_WithoutMajority_DoesNotBecomeLeader()
    {
        var cluster = new TestCluster(5, configure: Plain);
        cluster.Partition([1, 2], [3, 4, 5]);
        cluster[1].Raft.Campaign(transfer: false);
        cluster.Stabilize();
        Assert.Equal(RaftRole.Candidate, cluster[1].Raft.Role);
        Assert.Empty(cluster.Leaders());
    }

    [Fact]
    public void Candidate_StepsDown_WhenMajorityRejects()
    {
        var cluster = new TestCluster(3, configure: Plain);
        cluster.Elect(1);
        cluster.Propose(1, "x");
        cluster.Stabilize();
        // Member 3 lost everything but its term: its log is behind, so both others reject it.
        var stale = cluster.Replace(3, TestCluster.StorageWithLog(cluster[1].Raft.Config, 1));
        stale.Raft.Campaign(transfer: false);
        cluster.Stabilize();
        Assert.Equal(RaftRole.Follower, stale.Raft.Role);
    }

    [Fact]
    public void SingleVoter_BecomesLeader_AtOnce()
    {
        var cluster = new TestCluster(1);
        cluster[1].Raft.Campaign(transfer: false);
        Assert.Equal(RaftRole.Leader, cluster[1].Raft.Role);
        cluster.Stabilize();
        Assert.Equal(1UL, cluster[1].Raft.Log.Committed);
    }

    [Fact]
    public void Voter_GrantsAtMostOneVote_PerTerm()
    {
        var cluster = new TestCluster(3, configure: Plain);
        var voter = cluster[1].Raft;
        voter.Step(VoteRequest(2, 1, term: 1));
        voter.Step(VoteRequest(3, 1, term: 1));
        // A retried request from the candidate we voted for is granted again.
        voter.Step(VoteRequest(2, 1, term: 1));
        var responses = voter.GetReady().MessagesAfterPersist;
        Assert.Collection(responses,
            m => Assert.True(m is { To: 2, Type: MessageType.VoteResponse, Reject: false }),
            m => Assert.True(m is { To: 3, Type: MessageType.VoteResponse, Reject: true }),
            m => Assert.True(m is { To: 2, Type: MessageType.VoteResponse, Reject: false }));
        Assert.Equal(2UL, voter.Vote);
    }

    [Fact]
    public void Voter_GrantsAgain_InLaterTerm()
    {
        var cluster = new TestCluster(3, configure: Plain);
        var voter = cluster[1].Raft;
        voter.Step(VoteRequest(2, 1, term: 1));
        voter.Step(VoteRequest(3, 1, term: 2));
        var responses = voter.GetReady().MessagesAfterPersist;
        Assert.All(responses, m => Assert.False(m.Reject));
        Assert.Equal((2UL, 3UL), (voter.Term, voter.Vote));
    }

    [Fact]
    public void Voter_RemembersVote_AcrossRestart()
    {
        var cluster = new TestCluster(3, configure: Plain);
        cluster[1].Raft.Step(VoteRequest(2, 1, term: 1));
        cluster.ProcessReady(1);
        cluster[1].Restart();
        cluster[1].Raft.Step(VoteRequest(3, 1, term: 1));
        var response = Assert.Single(cluster[1].Raft.GetReady().MessagesAfterPersist);
        Assert.True(response.Reject);
        Assert.Equal(2UL, cluster[1].Raft.Vote);
    }

    // Voter's log: terms [1, 1, 2] (last entry 3/2).
    [Theory]
    [InlineData(3UL, 1UL, false)] // older last term, longer log
    [InlineData(9UL, 1UL, false)] // much longer, but older last term
    [InlineData(2UL, 2UL, false)] // same last term, shorter
    [InlineData(3UL, 2UL, true)] // identical
    [InlineData(4UL, 2UL, true)] // same last term, longer
    [InlineData(1UL, 3UL, true)] // newer last term, shorter
    public void Voter_RejectsCandidate_WhoseLogIsLessUpToDate(ulong lastIndex, ulong lastTerm, bool granted)
    {
        var config = new ConfigState([1, 2, 3], []);
        var cluster = new TestCluster(3, configure: Plain);
        var voter = cluster.Replace(1, TestCluster.StorageWithLog(config, 2, 1, 1, 2)).Raft;
        voter.Step(VoteRequest(2, 1, term: 3, lastIndex, lastTerm));
        var response = Assert.Single(voter.GetReady().MessagesAfterPersist);
        Assert.Equal(MessageType.VoteResponse, response.Type);
        Assert.Equal(!granted, response.Reject);
        Assert.Equal(granted ? 2UL : 0UL, voter.Vote);
        // Either way the voter adopts the newer term.
        Assert.Equal(3UL, voter.Term);
    }

    [Fact]
    public void Follower_RejectsAppend_FromStaleTerm()
    {
        var config = new ConfigState([1, 2, 3], []);
        var cluster = new TestCluster(3);
        var follower = cluster.Replace(1, TestCluster.StorageWithLog(config, 3, 1, 2)).Raft;
        follower.Step(new Message
        {
            Type = MessageType.Append, From = 2, To = 1, Term = 2, Index = 2, LogTerm = 2, Commit = 3,
            Entries = [new Entry(2, 3, EntryType.Normal, new byte[] { 1 })],
        });
        Assert.Equal(2UL, follower.Log.LastIndex);
        Assert.Equal(0UL, follower.Log.Committed);
        Assert.Equal(0UL, follower.Leader);
        // The stale leader is told the current term so that it steps down.
        var response = Assert.Single(follower.GetReady().MessagesAfterPersist);
        Assert.True(response is { Type: MessageType.AppendResponse, Term: 3, To: 2 });
    }

    [Fact]
    public void Voter_IgnoresVoteRequest_FromStaleTerm()
    {
        var config = new ConfigState([1, 2, 3], []);
        var cluster = new TestCluster(3, configure: Plain);
        var voter = cluster.Replace(1, TestCluster.StorageWithLog(config, 5)).Raft;
        voter.Step(VoteRequest(2, 1, term: 4));
        Assert.Equal((5UL, 0UL), (voter.Term, voter.Vote));
        Assert.DoesNotContain(voter.GetReady().MessagesAfterPersist, m => !m.Reject);
    }

    [Fact]
    public void Leader_StepsDown_OnMessageWithHigherTerm()
    {
        var cluster = new TestCluster(3, configure: Plain);
        var leader = cluster.Elect(1).Raft;
        leader.Step(new Message { Type = MessageType.Heartbeat, From = 2, To = 1, Term = 5 });
        Assert.Equal(RaftRole.Follower, leader.Role);
        Assert.Equal(5UL, leader.Term);
        Assert.Equal(2UL, leader.Leader);
    }

    [Fact]
    public void Leader_StepsDown_OnRejectionCarryingHigherTerm()
    {
        var cluster = new TestCluster(3, configure: Plain);
        var leader = cluster.Elect(1).Raft;
        leader.Step(new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = 7, Reject = true });
        Assert.Equal(RaftRole.Follower, leader.Role);
        Assert.Equal(7UL, leader.Term);
        Assert.Equal(0UL, leader.Leader);
    }

    [Fact]
    public void Candidate_BecomesFollower_OnAppendFromLeaderOfSameTerm()
    {
        var cluster = new TestCluster(3, configure: Plain);
        var candidate = cluster[1].Raft;
        candidate.Campaign(transfer: false);
        Assert.Equal(RaftRole.Candidate, candidate.Role);
        candidate.Step(new Message { Type = MessageType.Append, From = 2, To = 1, Term = 1, Index = 0, LogTerm = 0 });
        Assert.Equal(RaftRole.Follower, candidate.Role);
        Assert.Equal(2UL, candidate.Leader);
    }

    [Fact]
    public void PreVote_DoesNotIncreaseTerms_OfAnyMember()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var term = cluster[1].Raft.Term;
        cluster.Isolate(3);
        cluster.Tick(3, 10 * cluster[3].Options.ElectionTimeoutTicks);
        Assert.Equal(RaftRole.PreCandidate, cluster[3].Raft.Role);
        Assert.Equal(term, cluster[3].Raft.Term);
        Assert.True(cluster.CountSent(m => m.Type == MessageType.PreVote && m.From == 3) > 0);
        Assert.Equal(0, cluster.CountSent(m => m.Type == MessageType.Vote && m.From == 3));
    }

    [Fact]
    public void PreVote_RejoiningPartitionedMember_DoesNotDisruptHealthyLeader()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var term = cluster[1].Raft.Term;
        cluster.Isolate(3);
        // The majority keeps working while 3 is away.
        for (var i = 0; i < 30; i++)
        {
            cluster.TickAll();
        }
        cluster.Propose(1, "while-away");
        cluster.Stabilize();
        cluster.Heal();
        for (var i = 0; i < 50; i++)
        {
            cluster.TickAll();
        }
        Assert.Equal(new ulong[] { 1 }, cluster.Leaders());
        Assert.All(cluster.Nodes, n => Assert.Equal(term, n.Raft.Term));
        Assert.Equal(cluster[1].Raft.Log.LastIndex, cluster[3].Raft.Log.LastIndex);
    }

    [Fact]
    public void WithoutPreVote_RejoiningPartitionedMember_ForcesNewTerm()
    {
        // The contrast to the test above: without pre-vote the isolated member's term runs ahead and its return
        // deposes the leader.
        var cluster = new TestCluster(3, configure: Plain);
        cluster.Elect(1);
        var term = cluster[1].Raft.Term;
        cluster.Isolate(3);
        cluster.Tick(3, 10 * cluster[3].Options.ElectionTimeoutTicks);
        Assert.True(cluster[3].Raft.Term > term + 1);
        cluster.Heal();
        cluster.TickAll(3 * cluster[3].Options.ElectionTimeoutTicks);
        Assert.True(cluster[1].Raft.Term > term);
    }

    [Fact]
    public void CheckQuorum_LeaderCutOffFromQuorum_StepsDown_WithinTwoElectionTimeouts()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        var timeout = leader.Options.ElectionTimeoutTicks;
        cluster.Isolate(1);
        // The first check may still count the answers heard before the cut; the second cannot.
        cluster.Tick(1, timeout - 1);
        Assert.Equal(RaftRole.Leader, leader.Raft.Role);
        cluster.Tick(1, timeout + 1);
        Assert.Equal(RaftRole.Follower, leader.Raft.Role);
        Assert.Equal(0UL, leader.Raft.Leader);
        Assert.False(leader.Raft.Propose(new byte[] { 1 }).IsAccepted);
    }

    [Fact]
    public void CheckQuorum_LeaderHearingFromQuorum_StaysLeader()
    {
        var cluster = new TestCluster(5);
        var leader = cluster.Elect(1);
        cluster.Isolate(4);
        cluster.Isolate(5);
        cluster.Tick(1, 10 * leader.Options.ElectionTimeoutTicks);
        Assert.Equal(RaftRole.Leader, leader.Raft.Role);
    }

    [Fact]
    public void WithoutCheckQuorum_IsolatedLeader_StaysLeader()
    {
        var cluster = new TestCluster(3, configure: Plain);
        var leader = cluster.Elect(1);
        cluster.Isolate(1);
        cluster.Tick(1, 10 * leader.Options.ElectionTimeoutTicks);
        Assert.Equal(RaftRole.Leader, leader.Raft.Role);
    }

    [Fact]
    public void LeaderLease_FollowerIgnoresVoteRequests_WhileHearingFromLeader()
    {
        var cluster = new TestCluster(3, configure: o => o with { PreVote = false });
        cluster.Elect(1);
        var follower = cluster[2].Raft;
        var term = follower.Term;
        follower.Step(VoteRequest(3, 2, term + 1, lastIndex: 10, lastTerm: term));
        Assert.Equal(term, follower.Term);
        Assert.Equal(1UL, follower.Leader);
        Assert.False(follower.HasReady);
    }

    [Fact]
    public void LeaderLease_Expired_FollowerGrantsVote()
    {
        var cluster = new TestCluster(5, configure: o => o with { PreVote = false });
        cluster.Elect(1);
        cluster.Isolate(1);
        // After one election timeout without the leader every follower's lease has expired; those whose randomized
        // timeout has not fired yet are still plain followers and must now grant a vote.
        var timeout = cluster[2].Options.ElectionTimeoutTicks;
        foreach (var node in cluster.Nodes.Where(n => n.Id != 1))
        {
            for (var i = 0; i < timeout; i++)
            {
                node.Raft.Tick();
            }
        }
        var follower = cluster.Nodes.First(n => n.Id != 1 && n.Raft.Role == RaftRole.Follower).Raft;
        var candidate = follower.Id == 2 ? 3UL : 2UL;
        var term = follower.Term;
        follower.Step(VoteRequest(candidate, follower.Id, term + 1, lastIndex: 10, lastTerm: term));
        Assert.Equal(term + 1, follower.Term);
        Assert.Equal(candidate, follower.Vote);
    }

    [Fact]
    public void LeaderLease_IsBypassed_ByTransferCampaign()
    {
        var cluster = new TestCluster(3, configure: o => o with { PreVote = false });
        cluster.Elect(1);
        var follower = cluster[2].Raft;
        var term = follower.Term;
        var request = VoteRequest(3, 2, term + 1, lastIndex: 10, lastTerm: term);
        follower.Step(new Message
        {
            Type = request.Type, From = 3, To = 2, Term = request.Term, Index = request.Index, LogTerm = request.LogTerm,
            Context = RaftNode.TransferCampaignContext,
        });
        Assert.Equal((term + 1, 3UL), (follower.Term, follower.Vote));
    }
}
