namespace Parley.Server.Tests;

/// <summary>The npm client etcd3's watcher runs npm/watch.js against the real 3-member cluster (skipped only without node/npm).</summary>
[Collection(ClientLibrariesCollection.Name)]
public sealed class Etcd3NpmWatchTests(ClusterFixture fixture)
{
    private readonly LocalCluster _cluster = fixture.Cluster;

    [NodeFact]
    public void Etcd3_Watch_LiveAndHistorical_PrevKv_Filter_Cancel()
    {
        var folder = Etcd3NpmClientTests.NpmFolder();
        NodeTools.InstallOnce(folder);
        var (exitCode, output, error) = NodeTools.Run("node", folder, TimeSpan.FromSeconds(90), ["watch.js", .. _cluster.Endpoints.Split(',')]);
        Assert.True(exitCode == 0, $"node watch.js failed ({exitCode}):\n{output}\n{error}\nmember 0 log tail:\n{Etcd3NpmClientTests.Tail(_cluster.Log(0))}");
        Assert.StartsWith("OK etcd3 1.1.2 watch against ", output, StringComparison.Ordinal);
    }
}
