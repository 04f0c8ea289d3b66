using Parley.Mvcc;

namespace Parley.Node.Tests;

/// <summary>Lease clocks in the deterministic node: expiry by the leader only, keepalive and time-to-live from any
/// member, no early expiry across leader changes, and checkpointed remaining TTLs. Time is ticks (10 per second).</summary>
public class LeaseClockTests
{
    private const int Tps = NodeCluster.TicksPerSecond;

    [Fact]
    public void UnkeptLease_ExpiresAfterItsTtl_DeletingItsKeysInOneRevision()
    {
        using var cluster = new NodeCluster();
        var leader = cluster.Leader();
        var lease = cluster.Grant(leader, ttlSeconds: 5);
        var granted = cluster.Now;
        cluster.Put(leader, "a", lease);
        cluster.Put(leader, "b", lease);
        var revision = cluster.Node(leader).Store.Revision;
        cluster.Tick((int)(granted + 5 * Tps - 1 - cluster.Now));
        Assert.True(cluster.HasLease(leader, lease), "not expired one tick before its TTL");
        cluster.Tick(2);
        foreach (var id in cluster.Live)
        {
            var store = cluster.Node(id).Store;
            Assert.False(store.TryGetLeaseTtl(lease, out _, out _));
            Assert.Equal(revision + 1, store.Revision); // both keys in one revision
            Assert.Equal(0, store.Range(new RangeRequest { Key = "a"u8.ToArray(), RangeEnd = "c"u8.ToArray(), CountOnly = true }).Value!.Count);
        }
    }

    [Fact]
    public void KeepAliveThroughAFollower_KeepsLeaseBeyondItsTtl_AndAnswersTheGrantedTtl()
    {
        using var cluster = new NodeCluster();
        var leader = cluster.Leader();
        var follower = cluster.Follower();
        var lease = cluster.Grant(follower, ttlSeconds: 3);
        for (var round = 0; round < 12; round++)
        {
            cluster.Tick(Tps);
            var answer = cluster.Ask(follower, LeaseQueryKind.KeepAlive, lease);
            Assert.Equal(NodeError.None, answer.Error);
            Assert.Equal(3, answer.TtlSeconds);
        }
        Assert.True(cluster.HasLease(leader, lease));
        cluster.Tick(3 * Tps + 2);
        Assert.False(cluster.HasLease(follower, lease));
        Assert.Equal(0, cluster.Ask(follower, LeaseQueryKind.KeepAlive, lease).TtlSeconds); // etcd: TTL 0, not an error
    }

    [Fact]
    public void TimeToLive_AtAFollower_GivesTheLeadersRemainingTime_AndKeys()
    {
        using var cluster = new NodeCluster();
        var follower = cluster.Follower();
        var lease = cluster.Grant(follower, ttlSeconds: 10);
        cluster.Put(follower, "k2", lease);
        cluster.Put(follower, "k1", lease);
        var start = cluster.Now;
        cluster.Tick(25);
        var answer = cluster.Ask(follower, LeaseQueryKind.TimeToLive, lease, withKeys: true);
        var elapsedTicks = cluster.Now - start;
        Assert.Equal((100 - elapsedTicks) / Tps, answer.TtlSeconds);
        Assert.InRange(answer.TtlSeconds, 6, 7);
        Assert.Equal(10, answer.GrantedTtlSeconds);
        Assert.Equal(["k1", "k2"], answer.Keys.Select(key => System.Text.Encoding.UTF8.GetString(key)).ToArray());
        var unknown = cluster.Ask(follower, LeaseQueryKind.TimeToLive, 12345);
        Assert.Equal((-1L, 0L), (unknown.TtlSeconds, unknown.GrantedTtlSeconds));
    }

    [Fact]
    public void FollowersNeverExpireLeases_OnlyTheLeaderDoes()
    {
        using var cluster = new NodeCluster();
        var leader = cluster.Leader();
        var lease = cluster.Grant(leader, ttlSeconds: 2);
        Assert.All(cluster.Live.Where(id => id != leader), id => Assert.Null(cluster.Node(id).LeaseRemainingTicks(lease)));
        Assert.NotNull(cluster.Node(leader).LeaseRemainingTicks(lease));
    }

    [Fact]
    public void AfterLeaderDies_AnUnkeptLease_ExpiresNoEarlierThanItsTtl_AndWithinTtlPlusElections()
    {
        using var cluster = new NodeCluster();
        var leader = cluster.Leader();
        var lease = cluster.Grant(leader, ttlSeconds: 5);
        var granted = cluster.Now;
        cluster.Tick(3 * Tps);
        cluster.Kill(leader);
        var killed = cluster.Now;
        var survivor = cluster.Live.First();
        long? expiredAt = null;
        for (var i = 0; i < 20 * Tps && expiredAt is null; i++)
        {
            cluster.Tick();
            if (!cluster.HasLease(survivor, lease))
            {
                expiredAt = cluster.Now;
            }
        }
        Assert.NotNull(expiredAt);
        Assert.True(expiredAt >= granted + 5 * Tps, $"expired at {expiredAt}, granted at {granted}: early");
        Assert.True(expiredAt <= killed + 5 * Tps + 3 * NodeCluster.ElectionTimeoutTicks, $"expired at {expiredAt}, leader killed at {killed}: too late");
    }

    [Fact]
    public void AfterLeaderDies_AKeptLease_DoesNotExpire()
    {
        using var cluster = new NodeCluster();
        var leader = cluster.Leader();
        var lease = cluster.Grant(leader, ttlSeconds: 2);
        var asker = cluster.Follower();
        cluster.Tick(Tps / 2);
        cluster.Ask(asker, LeaseQueryKind.KeepAlive, lease);
        cluster.Kill(leader);
        for (var i = 0; i < 12; i++)
        {
            cluster.Tick(Tps / 2);
            var answer = cluster.Ask(asker, LeaseQueryKind.KeepAlive, lease);
            Assert.True(answer.Error != NodeError.None || answer.TtlSeconds == 2, $"keepalive said {answer.TtlSeconds}");
            Assert.True(cluster.HasLease(asker, lease), $"expired at {cluster.Now} while kept alive");
        }
    }

    [Fact]
    public void Checkpoints_CarryRemainingTtlAcrossLeaderChanges_SoLongLeasesAreNotExtendedForever()
    {
        using var cluster = new NodeCluster(size: 5, leaseCheckpointIntervalTicks: 2 * Tps);
        var leader = cluster.Leader();
        var lease = cluster.Grant(leader, ttlSeconds: 30);
        var granted = cluster.Now;
        cluster.Tick(10 * Tps);
        var follower = cluster.Follower();
        cluster.Node(follower).Store.TryGetLeaseTtl(lease, out _, out var checkpointed);
        Assert.InRange(checkpointed, 19, 22); // replicated to followers, at most one interval old
        // Two leader changes, each would have restarted the lease at 30 s without checkpoints.
        for (var change = 0; change < 2; change++)
        {
            cluster.Kill(cluster.Leader());
            cluster.Tick(5 * Tps);
        }
        var remaining = cluster.Node(cluster.Leader()).LeaseRemainingTicks(lease)!.Value;
        var elapsed = cluster.Now - granted;
        Assert.True(remaining <= 30 * Tps - elapsed + 2 * (2 * Tps + 3 * NodeCluster.ElectionTimeoutTicks),
            $"remaining {remaining} ticks after {elapsed} of 300: extended by leader changes");
        Assert.True(remaining >= 30 * Tps - elapsed, $"remaining {remaining} ticks after {elapsed} of 300: cut short");
        long? expiredAt = null;
        for (var i = 0; i < 40 * Tps && expiredAt is null; i++)
        {
            cluster.Tick();
            expiredAt = cluster.HasLease(cluster.Leader(), lease) ? null : cluster.Now;
        }
        Assert.NotNull(expiredAt);
        Assert.True(expiredAt >= granted + 30 * Tps);
    }

    [Fact]
    public void KeepAlive_ClearsACheckpointThroughRaft_BeforeAnswering()
    {
        using var cluster = new NodeCluster(leaseCheckpointIntervalTicks: 2 * Tps);
        var leader = cluster.Leader();
        var lease = cluster.Grant(leader, ttlSeconds: 30);
        cluster.Tick(5 * Tps);
        Assert.All(cluster.Live, id => Assert.True(cluster.Node(id).Store.TryGetLeaseTtl(lease, out _, out var r) && r > 0));
        var answer = cluster.Ask(cluster.Follower(), LeaseQueryKind.KeepAlive, lease);
        Assert.Equal(30, answer.TtlSeconds);
        Assert.All(cluster.Live, id => Assert.True(cluster.Node(id).Store.TryGetLeaseTtl(lease, out _, out var r) && r == 0));
    }

    [Fact]
    public void RevokedLease_IsForgottenByTheLessor_AndKeepAliveAnswersZero()
    {
        using var cluster = new NodeCluster();
        var leader = cluster.Leader();
        var lease = cluster.Grant(leader, ttlSeconds: 60);
        var revoke = cluster.Write(leader, WriteCommand.LeaseRevoke(new LeaseRevokeRequest { ID = lease }));
        Assert.True(revoke.Outcome!.IsSuccess);
        Assert.Null(cluster.Node(leader).LeaseRemainingTicks(lease));
        Assert.Equal(0, cluster.Ask(leader, LeaseQueryKind.KeepAlive, lease).TtlSeconds);
    }

    [Fact]
    public void LeaseQuery_WithoutALeader_FailsAtItsDeadline()
    {
        using var cluster = new NodeCluster();
        var leader = cluster.Leader();
        var lease = cluster.Grant(leader, ttlSeconds: 60);
        var follower = cluster.Follower();
        foreach (var id in cluster.Live.Where(id => id != follower).ToList())
        {
            cluster.Kill(id);
        }
        LeaseAnswer? answer = null;
        cluster.Node(follower).SubmitLeaseQuery(LeaseQueryKind.KeepAlive, lease, false, reply => answer = reply);
        cluster.Tick(100);
        Assert.NotNull(answer);
        Assert.True(answer.Error is NodeError.NoLeader or NodeError.TimedOut, answer.Error.ToString());
    }
}
