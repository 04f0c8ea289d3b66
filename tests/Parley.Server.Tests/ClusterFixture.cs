namespace Parley.Server.Tests;

/// <summary>One 3-member cluster shared by the tests of a class (each test uses its own keys).</summary>
public sealed class ClusterFixture : IDisposable
{
    public LocalCluster Cluster { get; } = new(3);

    public void Dispose() => Cluster.Dispose();
}
