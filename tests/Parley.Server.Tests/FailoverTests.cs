namespace Parley.Server.Tests;

/// <summary>Real processes, SIGKILL: the cluster keeps serving through the loss of its leader, and data survives restarts.</summary>
public class FailoverTests
{
    [EtcdctlFact]
    public void LeaderKilled_TheOthersElectAndServe_AndRestartsKeepEveryAcknowledgedWrite() => KillTheLeaderAndRestart();

    /// <summary>The same with the WAL synced on a thread of its own (ADR 0005).</summary>
    [EtcdctlFact]
    public void LeaderKilled_WithTheSyncOffTheLoop_RestartsKeepEveryAcknowledgedWrite() =>
        KillTheLeaderAndRestart("--experimental-wal-sync-off-loop=true");

    private static void KillTheLeaderAndRestart(params string[] flags)
    {
        using var cluster = new LocalCluster(3, flags);
        for (var i = 0; i < 20; i++)
        {
            Put(cluster, i % 3, $"before-{i}", "v");
        }
        var leader = cluster.Leader() ?? throw new InvalidOperationException("no leader");
        cluster.Kill(leader);
        var survivors = Enumerable.Range(0, 3).Where(member => member != leader).ToArray();
        // A new leader within a few election timeouts (1 s each); bounded wait.
        LocalCluster.WaitUntil(() => cluster.Leader() is { } next && next != leader, TimeSpan.FromSeconds(15), "a new leader among the survivors");
        for (var i = 0; i < 20; i++)
        {
            Put(cluster, survivors[i % 2], $"after-{i}", "v");
        }
        cluster.Start(leader);
        LocalCluster.WaitUntil(() => cluster.IsReady(leader), TimeSpan.FromSeconds(30), "the killed member back");
        // It says when the entries it had committed before the kill were applied again (no snapshot yet: all of them).
        LocalCluster.WaitUntil(() => ReplayedOnRestart(cluster.Log(leader)) is not null, TimeSpan.FromSeconds(30), "the restarted member's replay logged");
        Assert.True(ReplayedOnRestart(cluster.Log(leader)) >= 20, cluster.Log(leader));
        foreach (var member in new[] { leader, survivors[0] })
        {
            Assert.Equal(20, CountKeys(cluster, member, "before-"));
            Assert.Equal(20, CountKeys(cluster, member, "after-"));
        }
    }

    private static int? ReplayedOnRestart(string log) =>
        System.Text.RegularExpressions.Regex.Match(log, @"applied the (\d+) entries committed before the restart \(through index \d+\) in \d+ ms") is { Success: true } match
            ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            : null;

    private static int CountKeys(LocalCluster cluster, int member, string prefix)
    {
        var (exitCode, output, error) = Etcdctl.Run(cluster.Endpoint(member), $"get {prefix} --prefix --keys-only");
        Assert.True(exitCode == 0, error);
        return output.Split('\n').Count(line => line.StartsWith(prefix, StringComparison.Ordinal));
    }

    private static void Put(LocalCluster cluster, int member, string key, string value)
    {
        var (exitCode, _, error) = Etcdctl.Run(cluster.Endpoint(member), $"put {key} {value}");
        Assert.True(exitCode == 0, $"put {key} on member {member}: {error}");
    }
}
