using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Parley.Server.Tests;

/// <summary>
/// Leases across a SIGKILL of the leader, on real processes: a lease kept alive (by etcdctl, through the survivors)
/// does not expire; a lease nobody keeps alive expires no earlier than its TTL and not long after TTL plus an
/// election; its keys go in one revision.
/// </summary>
public partial class LeaseFailoverTests
{
    private const int UnkeptTtlSeconds = 8;

    [EtcdctlFact]
    public void LeaderKilled_KeptLeaseSurvives_UnkeptLeaseExpiresOnTime_KeysInOneRevision()
    {
        using var cluster = new LocalCluster(3);
        var leader = cluster.Leader() ?? throw new InvalidOperationException("no leader");
        var survivors = Enumerable.Range(0, 3).Where(member => member != leader).ToArray();
        var survivorEndpoints = string.Join(",", survivors.Select(cluster.Endpoint));
        var kept = Grant(cluster, survivors[0], 5);
        using var keepAlive = new EtcdctlProcess(survivorEndpoints, "lease", "keep-alive", kept);
        keepAlive.WaitForOutput(output => output.Contains("keepalived with TTL(5)", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "keepalive running");

        var clock = Stopwatch.StartNew();
        var beforeGrant = clock.Elapsed;
        var unkept = Grant(cluster, survivors[1], UnkeptTtlSeconds);
        Run(cluster, survivors[0], $"put failover-a 1 --lease={unkept}");
        Run(cluster, survivors[1], $"put failover-b 1 --lease={unkept}");
        cluster.Kill(leader);
        var killedAt = clock.Elapsed;
        LocalCluster.WaitUntil(() => cluster.Leader() is { } next && next != leader, TimeSpan.FromSeconds(20), "a new leader");

        TimeSpan? expiredAt = null;
        while (expiredAt is null && clock.Elapsed < killedAt + TimeSpan.FromSeconds(60))
        {
            var (exitCode, output, _) = Etcdctl.Run(cluster.Endpoint(survivors[0]), $"lease timetolive {unkept}");
            if (exitCode == 0 && output.Contains("already expired", StringComparison.Ordinal))
            {
                expiredAt = clock.Elapsed;
            }
            Thread.Sleep(200);
        }
        Assert.NotNull(expiredAt);
        Assert.True(expiredAt.Value - beforeGrant >= TimeSpan.FromSeconds(UnkeptTtlSeconds),
            $"expired {(expiredAt.Value - beforeGrant).TotalSeconds:F1} s after the grant: earlier than its TTL");
        // TTL + an election + generous slack for a loaded machine (this is a liveness bound, not a performance figure).
        Assert.True(expiredAt.Value - killedAt <= TimeSpan.FromSeconds(UnkeptTtlSeconds + 20),
            $"expired {(expiredAt.Value - killedAt).TotalSeconds:F1} s after the leader was killed");
        Assert.Equal("", Run(cluster, survivors[1], "get failover- --prefix --keys-only"));
        var deletedAt = new[] { "failover-a", "failover-b" }.Select(key => DeletedAt(cluster, survivors[0], key)).ToArray();
        Assert.True(deletedAt[0] > 0 && deletedAt[0] == deletedAt[1], $"keys deleted at revisions {deletedAt[0]} and {deletedAt[1]}");

        // The kept lease lived through the kill and all of the above (well over twice its TTL).
        Assert.False(keepAlive.HasExited, keepAlive.Error);
        var ttl = Run(cluster, survivors[1], $"lease timetolive {kept}");
        Assert.DoesNotContain("already expired", ttl, StringComparison.Ordinal);
        Assert.Matches(@"remaining\([1-5]s\)", ttl);
    }

    private static string Grant(LocalCluster cluster, int member, int ttlSeconds)
    {
        var output = Run(cluster, member, $"lease grant {ttlSeconds}");
        var match = GrantLine().Match(output);
        Assert.True(match.Success, output);
        return match.Groups[1].Value;
    }

    /// <summary>The revision at which the key was deleted: it is live at r-1 and gone at r.</summary>
    private static long DeletedAt(LocalCluster cluster, int member, string key)
    {
        var now = JsonDocument.Parse(Run(cluster, member, $"get {key} -w json")).RootElement.GetProperty("header").GetProperty("revision").GetInt64();
        for (var revision = now; revision > 1; revision--)
        {
            if (JsonDocument.Parse(Run(cluster, member, $"get {key} --rev {revision - 1} -w json")).RootElement.TryGetProperty("kvs", out _))
            {
                return revision;
            }
        }
        return -1;
    }

    /// <summary>etcdctl on one member, retried briefly while an election is under way.</summary>
    private static string Run(LocalCluster cluster, int member, string arguments)
    {
        var attempt = 0;
        while (true)
        {
            var (exitCode, output, error) = Etcdctl.Run(cluster.Endpoint(member), arguments);
            if (exitCode == 0)
            {
                return output;
            }
            Assert.True(++attempt < 10, $"etcdctl {arguments} on member {member} failed: {error}");
            Thread.Sleep(500);
        }
    }

    [GeneratedRegex(@"^lease ([0-9a-f]{16}) granted with TTL\((\d+)s\)")]
    private static partial Regex GrantLine();
}
