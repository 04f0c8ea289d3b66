namespace Parley.Server.Tests;

/// <summary>
/// A member of another cluster whose membership names one of ours (a reused address, a member started with the wrong
/// --initial-cluster) is refused at the peer Hello, as etcd refuses peer requests whose cluster id differs: no Raft
/// traffic crosses between the clusters, and both sides say why in their logs.
/// </summary>
public class PeerClusterTests
{
    [Fact]
    public void MemberOfAnotherCluster_IsRefused_AndBothSidesSayWhy()
    {
        using var cluster = new LocalCluster(1, spares: 1, beforeStart: null, extraArguments: []);
        // Slot 1 starts a two-member cluster of its own that lists our member's peer URL as its second member.
        cluster.StartInOtherCluster(1, $"{cluster.Names[0]}={cluster.PeerUrls[0]},{cluster.Names[1]}={cluster.PeerUrls[1]}");

        LocalCluster.WaitUntil(() => cluster.Log(0).Contains("refused a connection from member", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "our member refuses the other cluster's member");
        LocalCluster.WaitUntil(() => cluster.Log(1).Contains("refused the connection: it is a member of cluster", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "the other cluster's member hears why");
        Assert.Contains($"({cluster.Names[1]}) of cluster", cluster.Log(0), StringComparison.Ordinal);

        // Ours still leads alone and serves; the other, one of two with no partner, never has a leader.
        Assert.Equal(0, cluster.Leader());
        Assert.False(cluster.IsReady(1));
        Assert.Null(cluster.ExitCode(0));
    }
}
