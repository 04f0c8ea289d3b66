namespace Parley.Server.Tests;

/// <summary>
/// The client-library tests (dotnet-etcd, npm etcd3) share one 3-member cluster and run one class after the other;
/// each uses its own keys.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ClientLibrariesCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "etcd client libraries";
}
