using Parley.Bench.Comparison;

namespace Parley.Bench.Tests;

/// <summary>One real <c>parley serve</c> member on free 127.0.0.1 ports, shared by a test class.</summary>
public sealed class ParleyMemberFixture : IDisposable
{
    public ParleyMemberFixture()
    {
        Cluster = BenchCluster.Create(ServerKind.Parley, 1, ServerCommand.Parley(null));
        Cluster.Start();
        Cluster.WaitReadyAsync(TimeSpan.FromSeconds(90), CancellationToken.None).GetAwaiter().GetResult();
    }

    public BenchCluster Cluster { get; }

    public string Endpoint => Cluster.Endpoints[0];

    public void Dispose() => Cluster.Dispose();
}
