using System.Runtime.CompilerServices;
using System.Text;
using Parley.Mvcc;

namespace Parley.Node.Tests;

/// <summary>
/// Writes a follower forwards to a leader that then loses leadership: an unknown outcome fails at once with etcd's
/// "leader changed", a write known never to commit is forwarded again, and no write is ever applied twice.
/// Time is ticks; the network is in memory and filtered per (from, to, kind).
/// </summary>
public class ForwardedWriteTests
{
    private const int ElectionTimeoutTicks = NodeCluster.ElectionTimeoutTicks;

    [Fact]
    public void ForwardLostWithTheLeader_FailsWithLeaderChanged_AsSoonAsTheFollowerLosesTheLeader()
    {
        using var cluster = new NodeCluster();
        var leader = cluster.Leader();
        var follower = cluster.Follower();
        cluster.Deliver = (from, to, _) => from != leader && to != leader;
        var submitted = cluster.Now;
        var result = Submit(cluster, follower, "lost");
        cluster.Settle();
        Assert.Null(result.Value); // forwarded into the void: nothing is known yet
        for (var i = 0; result.Value is null && i < 100; i++)
        {
            cluster.Tick();
        }
        Assert.Equal(NodeError.LeaderChanged, result.Value!.Value.Error);
        Assert.True(cluster.Now - submitted <= 2 * ElectionTimeoutTicks + 2,
            $"failed after {cluster.Now - submitted} ticks; the request deadline is 70, an election timeout {ElectionTimeoutTicks}");
        cluster.Deliver = null;
        cluster.Tick(3 * ElectionTimeoutTicks);
        Assert.All(cluster.Live, id => Assert.Equal(0, Version(cluster, id, "lost")));
    }

    [Fact]
    public void ForwardAppendedByTheOldLeader_ThenReplaced_IsForwardedAgain_AndAppliedOnce()
    {
        using var cluster = new NodeCluster();
        var leader = cluster.Leader();
        var follower = cluster.Follower();
        // The leader hears the forward and answers where it appended it, but replicates nothing.
        cluster.Deliver = (from, to, kind) => (from != leader && to != leader)
            || (from == follower && to == leader && kind == Traffic.Forward)
            || (from == leader && to == follower && kind == Traffic.ForwardAnswer);
        var revision = cluster.Node(follower).Store.Revision;
        var result = Submit(cluster, follower, "replaced");
        cluster.Settle();
        Assert.Contains((leader, follower, Traffic.ForwardAnswer), cluster.Sent);
        Assert.Null(result.Value);
        for (var i = 0; result.Value is null && i < 100; i++)
        {
            cluster.Tick();
        }
        Assert.Equal(NodeError.None, result.Value!.Value.Error);
        Assert.True(result.Value.Value.Outcome!.IsSuccess);
        cluster.Deliver = null;
        cluster.Tick(3 * ElectionTimeoutTicks); // the old leader rejoins and its copy is truncated
        foreach (var id in cluster.Live)
        {
            Assert.Equal(1, Version(cluster, id, "replaced"));
            Assert.Equal(revision + 1, cluster.Node(id).Store.Revision);
        }
    }

    [Fact]
    public void ForwardAppendedByTheOldLeader_AndKeptByTheNewOne_CompletesOnce_WithoutBeingForwardedAgain()
    {
        using var cluster = new NodeCluster();
        var leader = cluster.Leader();
        var follower = cluster.Follower();
        var keeper = cluster.Live.Single(id => id != leader && id != follower);
        // The leader replicates to `keeper` only; the follower sees none of its entries.
        cluster.Deliver = (from, to, kind) => !(from == leader && to == follower && kind == Traffic.Raft);
        var revision = cluster.Node(follower).Store.Revision;
        var result = Submit(cluster, follower, "kept");
        cluster.Settle();
        Assert.Null(result.Value);
        cluster.Deliver = (from, to, _) => from != leader && to != leader; // now the leader is gone for good
        for (var i = 0; result.Value is null && i < 100; i++)
        {
            cluster.Tick();
        }
        Assert.Equal(NodeError.None, result.Value!.Value.Error);
        Assert.True(cluster.Node(keeper).GetStatus().IsLeader);
        Assert.Single(cluster.Sent, sent => sent.From == follower && sent.Kind == Traffic.Forward);
        Assert.Equal(1, Version(cluster, follower, "kept"));
        Assert.Equal(revision + 1, cluster.Node(follower).Store.Revision);
    }

    [Fact]
    public void ForwardRefusedByAFormerLeader_IsHeld_ThenForwardedToTheNewLeader_AndAppliedOnce()
    {
        using var cluster = new NodeCluster(size: 5);
        var formerLeader = cluster.Leader();
        var follower = cluster.Follower();
        cluster.Pause(follower); // it will still believe in the former leader
        cluster.Deliver = (from, to, _) => from != formerLeader && to != formerLeader;
        var newLeader = TickUntilLeader(cluster, id => id != formerLeader && id != follower);
        cluster.Deliver = null;
        for (var i = 0; cluster.Node(formerLeader).Leader != newLeader && i < 100; i++)
        {
            cluster.Tick();
        }
        Assert.Equal(newLeader, cluster.Node(formerLeader).Leader);
        // The follower wakes up, still seeing the former leader, and may only talk to it about forwards.
        cluster.Deliver = (from, to, kind) => (from != follower && to != follower)
            || (from == follower && to == formerLeader && kind == Traffic.Forward)
            || (from == formerLeader && to == follower && kind == Traffic.ForwardAnswer);
        cluster.Resume(follower);
        Assert.Equal(formerLeader, cluster.Node(follower).Leader);
        var revision = cluster.Node(newLeader).Store.Revision;
        var result = Submit(cluster, follower, "refused");
        cluster.Settle();
        cluster.Settle();
        Assert.Contains((formerLeader, follower, Traffic.ForwardAnswer), cluster.Sent);
        Assert.Single(cluster.Sent, sent => sent.From == follower && sent.Kind == Traffic.Forward); // held, not bounced back and forth
        Assert.Null(result.Value);
        cluster.Deliver = null;
        for (var i = 0; result.Value is null && i < 100; i++)
        {
            cluster.Tick();
        }
        Assert.Equal(NodeError.None, result.Value!.Value.Error);
        Assert.Contains((follower, newLeader, Traffic.Forward), cluster.Sent);
        cluster.Tick(ElectionTimeoutTicks);
        foreach (var id in cluster.Live)
        {
            Assert.Equal(1, Version(cluster, id, "refused"));
            Assert.Equal(revision + 1, cluster.Node(id).Store.Revision);
        }
    }

    [Fact]
    public void ForwardDeliveredTwice_IsAppendedOnce()
    {
        using var cluster = new NodeCluster();
        var leader = cluster.Leader();
        var follower = cluster.Follower();
        cluster.DuplicateForwards = true;
        var revision = cluster.Node(leader).Store.Revision;
        var result = cluster.Write(follower, Put("twice"));
        Assert.Equal(NodeError.None, result.Error);
        cluster.Tick(2);
        Assert.Equal(2, cluster.Sent.Count(sent => sent.From == follower && sent.Kind == Traffic.Forward));
        foreach (var id in cluster.Live)
        {
            Assert.Equal(1, Version(cluster, id, "twice"));
            Assert.Equal(revision + 1, cluster.Node(id).Store.Revision);
        }
    }

    private static WriteCommand Put(string key) =>
        WriteCommand.Put(new PutRequest { Key = Encoding.UTF8.GetBytes(key), Value = Encoding.UTF8.GetBytes("v") });

    private static StrongBox<WriteResult?> Submit(NodeCluster cluster, ulong at, string key)
    {
        var result = new StrongBox<WriteResult?>();
        cluster.Node(at).SubmitWrite(Put(key), outcome => result.Value = outcome);
        return result;
    }

    private static long Version(NodeCluster cluster, ulong member, string key)
    {
        var kvs = cluster.Node(member).Store.Range(new RangeRequest { Key = Encoding.UTF8.GetBytes(key) }).Value!.Kvs;
        return kvs.Count == 0 ? 0 : kvs[0].Version;
    }

    private static ulong TickUntilLeader(NodeCluster cluster, Func<ulong, bool> candidate)
    {
        for (var i = 0; i < 50 * ElectionTimeoutTicks; i++)
        {
            foreach (var id in cluster.Live.Where(candidate))
            {
                if (cluster.Node(id).GetStatus().IsLeader)
                {
                    return id;
                }
            }
            cluster.Tick();
        }
        throw new InvalidOperationException("no new leader");
    }
}
