using Parley.Raft;
using Parley.Raft.Tests.Harness;

namespace Parley.Raft.Tests;

/// <summary>Log replication (Raft §5.3, §5.4.2) and its bounds: pipelining, batching, backtracking.</summary>
public sealed class ReplicationTests
{
    private static readonly ConfigState ThreeVoters = new([1, 2, 3], []);

    private static Message Append(ulong from, ulong term, ulong prevIndex, ulong prevTerm, ulong commit, params Entry[] entries) =>
        new() { Type = MessageType.Append, From = from, To = 1, Term = term, Index = prevIndex, LogTerm = prevTerm, Commit = commit, Entries = entries };

    private static Entry E(ulong index, ulong term) => new(term, index, EntryType.Normal, new byte[] { (byte)index });

    public static TheoryData<string, ulong[], ulong> Figure7Followers => new()
    {
        // Raft paper, Figure 7: the leader of term 8 holds [1,1,1,4,4,5,5,6,6,6].
        { "a: missing entries", [1, 1, 1, 4, 4, 5, 5, 6, 6], 6 },
        { "b: missing many entries", [1, 1, 1, 4], 4 },
        { "c: one extra uncommitted entry", [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], 6 },
        { "d: extra entries of term 7", [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], 7 },
        { "e: missing and extra entries", [1, 1, 1, 4, 4, 4, 4], 4 },
        { "f: a divergent run of terms 2 and 3", [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], 3 },
    };

    [Theory]
    [MemberData(nameof(Figure7Followers))]
    public void Leader_BringsAnyFollowerLog_IntoAgreementWithItsOwn(string follower, ulong[] followerTerms, ulong followerTerm)
    {
        _ = follower;
        ulong[] leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
        var cluster = new TestCluster(3);
        cluster.Replace(1, TestCluster.StorageWithLog(ThreeVoters, 7, leaderTerms));
        cluster.Replace(2, TestCluster.StorageWithLog(ThreeVoters, followerTerm, followerTerms));
        cluster.Replace(3, TestCluster.StorageWithLog(ThreeVoters, 7, leaderTerms));
        var leader = cluster.Elect(1);
        Assert.Equal(8UL, leader.Raft.Term);
        cluster.Tick(1, 2);
        Assert.Equal([.. leaderTerms, 8UL], cluster[2].LogTerms());
        Assert.Equal(leader.Raft.Log.Committed, cluster[2].Raft.Log.Committed);
        Assert.Equal(11UL, cluster[2].AppliedIndex);
        // The follower's storage agrees too (the conflicting suffix is gone from disk, not just from memory).
        Assert.Equal(11UL, cluster[2].Storage.LastIndex);
    }

    [Fact]
    public void Follower_TruncatesConflictingSuffix_AndAppendsLeaderEntries()
    {
        var cluster = new TestCluster(3);
        var follower = cluster.Replace(1, TestCluster.StorageWithLog(ThreeVoters, 2, 1, 1, 2, 2)).Raft;
        follower.Step(Append(2, 3, prevIndex: 2, prevTerm: 1, commit: 0, E(3, 3)));
        Assert.Equal([1UL, 1, 3], cluster[1].LogTerms());
        var ack = Assert.Single(follower.GetReady().MessagesAfterPersist);
        Assert.True(ack is { Type: MessageType.AppendResponse, Reject: false, Index: 3 });
    }

    [Fact]
    public void Follower_KeepsMatchingEntries_WhenAppendIsAStaleDuplicate()
    {
        var cluster = new TestCluster(3);
        var follower = cluster.Replace(1, TestCluster.StorageWithLog(ThreeVoters, 2, 1, 2, 2, 2)).Raft;
        // An old, delayed append covering entries we already hold must not cut the log after them.
        follower.Step(Append(2, 2, prevIndex: 1, prevTerm: 1, commit: 0, E(2, 2)));
        Assert.Equal([1UL, 2, 2, 2], cluster[1].LogTerms());
    }

    [Fact]
    public void Follower_RejectsAppend_WhenPreviousEntryDoesNotMatch()
    {
        var cluster = new TestCluster(3);
        var follower = cluster.Replace(1, TestCluster.StorageWithLog(ThreeVoters, 2, 1, 1, 2)).Raft;
        follower.Step(Append(2, 3, prevIndex: 5, prevTerm: 3, commit: 5, E(6, 3)));
        Assert.Equal(3UL, follower.Log.LastIndex);
        Assert.Equal(0UL, follower.Log.Committed);
        var reject = Assert.Single(follower.GetReady().MessagesAfterPersist);
        Assert.True(reject.Reject);
        // The hint names our last entry: the leader can jump straight there.
        Assert.Equal((3UL, 2UL), (reject.RejectHint, reject.LogTerm));
    }

    [Theory]
    [InlineData(1000, 2, 1000)] // same length, every follower entry of an older term
    [InlineData(1000, 2, 10)] // follower much longer, older term
    [InlineData(0, 0, 1000)] // follower far behind
    public void Leader_FindsMatchPoint_InOneRejection_UsingConflictHints(int followerEntries, int followerTerm, int leaderEntries)
    {
        // Both logs share entry 1/1; after it they diverge for a long stretch.
        var leaderTerms = new[] { 1UL }.Concat(Enumerable.Repeat(3UL, leaderEntries)).ToArray();
        var followerTerms = new[] { 1UL }.Concat(Enumerable.Repeat((ulong)followerTerm, followerEntries)).ToArray();
        var cluster = new TestCluster(3, configure: o => o with { EntriesPerMessageMax = 4096 });
        cluster.Replace(1, TestCluster.StorageWithLog(ThreeVoters, 3, leaderTerms));
        cluster.Replace(2, TestCluster.StorageWithLog(ThreeVoters, 3, followerTerms));
        cluster.Replace(3, TestCluster.StorageWithLog(ThreeVoters, 3, leaderTerms));
        cluster.Elect(1);
        Assert.Equal(cluster[1].LogTerms(), cluster[2].LogTerms());
        var rejections = cluster.CountSent(m => m is { Type: MessageType.AppendResponse, From: 2, Reject: true });
        Assert.Equal(1, rejections);
        Assert.True(cluster.CountSent(m => m is { Type: MessageType.Append, To: 2 }) <= 3);
    }

    [Theory]
    [InlineData(false, 0UL)]
    [InlineData(true, 2UL)] // the injected bug of the paper's Figure 8 commits the old entry
    public void Leader_DoesNotCommit_OldTermEntry_ByCountingReplicas(bool commitOldTermBug, ulong expectedCommit)
    {
        var cluster = new TestCluster(3, configure: o => o with
        {
            EntriesPerMessageMax = 1,
            Bugs = commitOldTermBug ? RaftBugs.CommitOldTerm : RaftBugs.None,
        });
        // Entry 2 of term 2 reached members 1 and 2 only; 2 then lost contact.
        cluster.Replace(1, TestCluster.StorageWithLog(ThreeVoters, 2, 1, 2));
        cluster.Replace(2, TestCluster.StorageWithLog(ThreeVoters, 2, 1, 2));
        cluster.Replace(3, TestCluster.StorageWithLog(ThreeVoters, 2, 1));
        cluster.Isolate(2);
        // Member 1 leads term 3 and copies 2/2 to member 3: a majority holds it, but not its no-op 3/3.
        // (Its first append, 2/2 + [3/3], is let through: member 3 rejects it and the leader backs up.)
        cluster.DropWhen = m => m.Type == MessageType.Append && m.Entries.Any(e => e.Term == 3) && cluster[3].Raft.Log.LastIndex >= 2;
        var leader = cluster.Elect(1);
        Assert.Equal(2UL, leader.Raft.Progress[3].Match);
        Assert.Equal(expectedCommit, leader.Raft.Log.Committed);
        // Once the current-term entry reaches the majority, it commits and carries 2/2 with it.
        cluster.DropWhen = null;
        cluster.Tick(1);
        Assert.Equal(3UL, leader.Raft.Log.Committed);
        Assert.Equal(3UL, cluster[3].AppliedIndex);
    }

    [Fact]
    public void Heartbeat_CarriesCommit_ButNeverBeyondFollowerMatch()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        cluster.DropWhen = m => m.Type == MessageType.Append && m.To == 3;
        cluster.Propose(1, "a");
        cluster.Propose(1, "b");
        cluster.Stabilize();
        Assert.Equal(3UL, leader.Raft.Log.Committed);
        Assert.Equal(1UL, leader.Raft.Progress[3].Match);
        var sentBefore = cluster.Sent.Count;
        cluster.Tick(1);
        var heartbeats = cluster.Sent.Skip(sentBefore).Where(m => m.Type == MessageType.Heartbeat).ToDictionary(m => m.To);
        Assert.Equal(3UL, heartbeats[2].Commit);
        Assert.Equal(1UL, heartbeats[3].Commit);
        Assert.Equal(3UL, cluster[2].Raft.Log.Committed);
        Assert.Equal(1UL, cluster[3].Raft.Log.Committed);
    }

    [Fact]
    public void Heartbeat_AdvancesFollowerCommit_WhenAppendsCarriedAnOlderCommit()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        // Member 2 gets the entry but never the append that would tell it the entry committed.
        cluster.Propose(1, "a");
        cluster.ProcessReady(1);
        cluster.Deliver(m => m.To == 2);
        cluster.ProcessReady(2);
        cluster.Deliver(m => m.To == 1);
        cluster.DropWhen = m => m.Type == MessageType.Append;
        cluster.Stabilize();
        Assert.Equal(2UL, cluster[1].Raft.Log.Committed);
        Assert.Equal(1UL, cluster[2].Raft.Log.Committed);
        cluster.Tick(1);
        Assert.Equal(2UL, cluster[2].Raft.Log.Committed);
    }

    [Fact]
    public void Replicate_SendsUpToInflightWindow_WithoutWaiting_ThenPauses()
    {
        var cluster = new TestCluster(3, configure: o => o with { InflightMessagesMax = 3, EntriesPerMessageMax = 1 });
        var leader = cluster.Elect(1);
        Assert.Equal(ProgressState.Replicate, leader.Raft.Progress[2].State);
        var sentBefore = cluster.Sent.Count;
        for (var i = 0; i < 5; i++)
        {
            cluster.Propose(1, $"p{i}");
        }
        cluster.ProcessReady(1);
        int AppendsTo2() => cluster.Sent.Skip(sentBefore).Count(m => m is { Type: MessageType.Append, To: 2 } && m.Entries.Length > 0);
        Assert.Equal(3, AppendsTo2());
        Assert.True(leader.Raft.Progress[2].IsPaused);
        // One acknowledgement frees one slot: exactly one more append leaves.
        cluster.Deliver(m => m.To == 2 && m.Entries.Any(e => e.Index == 2));
        cluster.ProcessReady(2);
        cluster.Deliver(m => m.To == 1);
        cluster.ProcessReady(1);
        Assert.Equal(4, AppendsTo2());
        cluster.Stabilize();
        Assert.Equal(6UL, cluster[2].Raft.Log.LastIndex);
    }

    [Fact]
    public void Replicate_InflightWindow_IsAlsoBoundedByBytes()
    {
        var cluster = new TestCluster(3, configure: o => o with { InflightBytesMax = 250, EntriesPerMessageMax = 1 });
        var leader = cluster.Elect(1);
        var sentBefore = cluster.Sent.Count;
        for (var i = 0; i < 5; i++)
        {
            Assert.True(leader.Raft.Propose(new byte[100]).IsAccepted);
        }
        cluster.ProcessReady(1);
        // Each append is 124 bytes: the third one would be sent at 248 < 250, after which the window is full.
        Assert.Equal(3, cluster.Sent.Skip(sentBefore).Count(m => m is { Type: MessageType.Append, To: 2 } && m.Entries.Length > 0));
        Assert.True(leader.Raft.Progress[2].IsPaused);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LostAppends_AreRecovered_ThroughHeartbeatResponses(bool fillWindow)
    {
        var cluster = new TestCluster(3, configure: o => o with { InflightMessagesMax = 2 });
        var leader = cluster.Elect(1);
        cluster.DropWhen = m => m.Type == MessageType.Append && m.To == 3;
        for (var i = 0; i < (fillWindow ? 4 : 1); i++)
        {
            cluster.Propose(1, $"lost{i}");
            cluster.Stabilize();
        }
        Assert.Equal(fillWindow, leader.Raft.Progress[3].IsPaused);
        cluster.DropWhen = null;
        // One heartbeat round: its response tells the leader member 3 is behind.
        cluster.Tick(1);
        Assert.Equal(leader.Raft.Log.LastIndex, cluster[3].Raft.Log.LastIndex);
        Assert.Equal(leader.Raft.Log.Committed, cluster[3].Raft.Log.Committed);
        Assert.Equal(ProgressState.Replicate, leader.Raft.Progress[3].State);
    }

    [Fact]
    public void Appends_RespectEntriesPerMessageMax()
    {
        var cluster = new TestCluster(3, configure: o => o with { EntriesPerMessageMax = 3 });
        var leader = cluster.Elect(1);
        cluster.Isolate(3);
        for (var i = 0; i < 10; i++)
        {
            cluster.Propose(1, $"e{i}");
        }
        cluster.Stabilize();
        cluster.Heal();
        var sentBefore = cluster.Sent.Count;
        cluster.Tick(1, 3);
        var appends = cluster.Sent.Skip(sentBefore).Where(m => m is { Type: MessageType.Append, To: 3 }).ToList();
        Assert.All(appends, m => Assert.True(m.Entries.Length <= 3, $"{m.Entries.Length} entries in one append"));
        Assert.Contains(appends, m => m.Entries.Length == 3);
        Assert.Equal(leader.Raft.Log.LastIndex, cluster[3].Raft.Log.LastIndex);
    }

    [Fact]
    public void Appends_RespectBytesPerMessageMax()
    {
        var cluster = new TestCluster(3, configure: o => o with { BytesPerMessageMax = 300 });
        var leader = cluster.Elect(1);
        cluster.Isolate(3);
        for (var i = 0; i < 10; i++)
        {
            Assert.True(leader.Raft.Propose(new byte[100]).IsAccepted);
        }
        cluster.Stabilize();
        cluster.Heal();
        var sentBefore = cluster.Sent.Count;
        cluster.Tick(1, 3);
        var appends = cluster.Sent.Skip(sentBefore).Where(m => m is { Type: MessageType.Append, To: 3 } && m.Entries.Length > 0).ToList();
        // 124 bytes per entry with its overhead: two fit in 300, three do not.
        Assert.All(appends, m => Assert.True(m.Entries.Length == 1 || m.Entries.Sum(e => e.SizeBytes) <= 300,
            $"{m.Entries.Sum(e => e.SizeBytes)} bytes in one append"));
        Assert.Contains(appends, m => m.Entries.Length == 2);
        Assert.Equal(leader.Raft.Log.LastIndex, cluster[3].Raft.Log.LastIndex);
    }

    [Fact]
    public void Append_CarriesOneOversizedEntry_RatherThanNothing()
    {
        var cluster = new TestCluster(3, configure: o => o with { BytesPerMessageMax = 50 });
        var leader = cluster.Elect(1);
        Assert.True(leader.Raft.Propose(new byte[500]).IsAccepted);
        cluster.Stabilize();
        Assert.Equal(2UL, cluster[2].Raft.Log.Committed);
    }

    [Fact]
    public void Leader_RefusesProposals_BeyondUncommittedBytesMax()
    {
        var cluster = new TestCluster(3, configure: o => o with { UncommittedBytesMax = 1000 });
        var leader = cluster.Elect(1).Raft;
        cluster.Isolate(2);
        cluster.Isolate(3);
        Assert.True(leader.Propose(new byte[400]).IsAccepted);
        Assert.True(leader.Propose(new byte[400]).IsAccepted);
        var refused = leader.Propose(new byte[400]);
        Assert.Equal(ProposeStatus.TooManyUncommittedBytes, refused.Status);
        Assert.Equal(1UL, refused.LeaderHint);
        var lastIndex = leader.Log.LastIndex;
        Assert.Equal(3UL, lastIndex);
        cluster.Heal();
        cluster.Tick(1);
        Assert.Equal(3UL, leader.Log.Committed);
        // Committed and applied: the budget is free again.
        Assert.True(leader.Propose(new byte[400]).IsAccepted);
    }

    [Fact]
    public void Leader_AcceptsOneOversizedProposal_WhenNothingIsUncommitted()
    {
        var cluster = new TestCluster(3, configure: o => o with { UncommittedBytesMax = 100 });
        var leader = cluster.Elect(1).Raft;
        Assert.True(leader.Propose(new byte[500]).IsAccepted);
        Assert.Equal(ProposeStatus.TooManyUncommittedBytes, leader.Propose(new byte[1]).Status);
    }

    [Fact]
    public void Follower_RefusesProposals_NamingTheLeader()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var result = cluster[2].Raft.Propose(new byte[] { 1 });
        Assert.Equal(ProposeStatus.NotLeader, result.Status);
        Assert.Equal(1UL, result.LeaderHint);
    }

    [Fact]
    public void CommittedEntries_AreAppliedInOrder_OnEveryMember()
    {
        var cluster = new TestCluster(5);
        cluster.Elect(1);
        for (var i = 0; i < 20; i++)
        {
            cluster.Propose(1, $"v{i}");
            if (i % 3 == 0)
            {
                cluster.Stabilize();
            }
        }
        cluster.Stabilize();
        cluster.Tick(1);
        var expected = cluster[1].Applied.Select(e => (e.Index, e.Term)).ToList();
        Assert.Equal(21, expected.Count);
        Assert.All(cluster.Nodes, n => Assert.Equal(expected, n.Applied.Select(e => (e.Index, e.Term))));
    }

    [Fact]
    public void Commit_ReachesFollowersThatHoldEverything_InCommitOnlyAppends_ThatTheyDoNotAnswer()
    {
        var cluster = new TestCluster(3);
        cluster.Elect(1);
        var index = cluster.Propose(1, "a");
        cluster.ProcessReady(1);
        cluster.Deliver(m => m.To != 1);
        cluster.ProcessReady(2);
        cluster.ProcessReady(3);
        var sentBefore = cluster.Sent.Count;
        cluster.Deliver(m => m.To == 1);
        cluster.ProcessReady(1);
        var notices = cluster.Sent.Skip(sentBefore).Where(m => m.Type == MessageType.Append).ToList();
        Assert.Equal([2UL, 3], notices.Select(m => m.To).Order().ToArray());
        Assert.All(notices, m => Assert.True(m is { CommitOnly: true, Entries.Length: 0 } && m.Commit == index && m.Index == index));
        var noticesSent = cluster.Sent.Count;
        cluster.Stabilize();
        Assert.All(cluster.Nodes, n => Assert.Equal(index, n.AppliedIndex));
        Assert.Empty(cluster.Sent.Skip(noticesSent));
    }

    [Fact]
    public void CommitOnlyAppend_ThatDoesNotMatch_IsStillRejected()
    {
        var cluster = new TestCluster(3);
        var follower = cluster.Replace(1, TestCluster.StorageWithLog(ThreeVoters, 2, 1, 1, 2)).Raft;
        follower.Step(new Message { Type = MessageType.Append, From = 2, To = 1, Term = 3, Index = 5, LogTerm = 3, Commit = 5, CommitOnly = true });
        Assert.Equal(0UL, follower.Log.Committed);
        var reject = Assert.Single(follower.GetReady().MessagesAfterPersist);
        Assert.True(reject is { Type: MessageType.AppendResponse, Reject: true });
    }

    [Fact]
    public void LostAcknowledgement_BehindACommitOnlyAppend_IsFoundByTheNextHeartbeat()
    {
        var cluster = new TestCluster(3);
        var leader = cluster.Elect(1);
        var index = cluster.Propose(1, "a");
        cluster.ProcessReady(1);
        cluster.Deliver(m => m.To != 1);
        cluster.ProcessReady(2);
        cluster.ProcessReady(3);
        Assert.Equal(1, cluster.DropQueued(m => m is { Type: MessageType.AppendResponse, From: 3 }));
        cluster.Stabilize(); // 2's acknowledgement commits; 3 is told in a commit-only append and does not answer
        Assert.Equal(index, cluster[3].Raft.Log.Committed);
        Assert.Equal(index - 1, leader.Raft.Progress[3].Match);
        cluster.Tick(1); // a heartbeat (every tick by default), answered, and then an ordinary append, answered
        Assert.Equal(index, leader.Raft.Progress[3].Match);
    }
}
