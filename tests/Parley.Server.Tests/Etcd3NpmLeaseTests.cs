namespace Parley.Server.Tests;

/// <summary>The npm client etcd3's leases and lock run npm/lease.js against the real 3-member cluster (skipped only without node/npm).</summary>
[Collection(ClientLibrariesCollection.Name)]
public sealed class Etcd3NpmLeaseTests(ClusterFixture fixture)
{
    private readonly LocalCluster _cluster = fixture.Cluster;

    [NodeFact]
    public void Etcd3_LeaseKeepAlive_Revoke_Expiry_KeepaliveOnce_AndLock()
    {
        var folder = Etcd3NpmClientTests.NpmFolder();
        NodeTools.InstallOnce(folder);
        var (exitCode, output, error) = NodeTools.Run("node", folder, TimeSpan.FromSeconds(110), ["lease.js", .. _cluster.Endpoints.Split(',')]);
        Assert.True(exitCode == 0, $"node lease.js failed ({exitCode}):\n{output}\n{error}\nmember 0 log tail:\n{Etcd3NpmClientTests.Tail(_cluster.Log(0))}");
        Assert.StartsWith("OK etcd3 1.1.2 leases and lock against ", output, StringComparison.Ordinal);
    }
}
