extern alias DotnetEtcd;

using DotnetEtcd::dotnet_etcd;
using Google.Protobuf;
using Grpc.Core;
using Api = DotnetEtcd::Etcdserverpb;
using ElectionApi = DotnetEtcd::V3Electionpb;
using LockApi = DotnetEtcd::V3Lockpb;

namespace Parley.Server.Tests;

/// <summary>
/// Leases, the server-side Lock service and the server-side Election service through the NuGet client dotnet-etcd
/// (round-robin over all three members of a real cluster, so calls land on followers too).
/// </summary>
[Collection(ClientLibrariesCollection.Name)]
public sealed class DotnetEtcdCoordinationTests(ClusterFixture fixture) : IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);

    private readonly LocalCluster _cluster = fixture.Cluster;
    private readonly List<EtcdClient> _clients = [];

    [Fact]
    public async Task LeaseKeepAlive_KeepsAShortLeaseAlive_AndAfterItStops_TheLeaseExpires()
    {
        var client = Client();
        var lease = (await client.LeaseGrantAsync(new Api.LeaseGrantRequest { TTL = 5 }, deadline: Deadline())).ID;
        await client.PutAsync(new Api.PutRequest { Key = Bytes("dn-lease/k"), Value = Bytes("v"), Lease = lease }, deadline: Deadline());
        using (var keepAlive = new CancellationTokenSource())
        {
            var running = client.LeaseKeepAlive(lease, keepAlive.Token);
            await Task.Delay(TimeSpan.FromSeconds(11)); // more than twice the TTL
            var alive = await client.LeaseTimeToLiveAsync(new Api.LeaseTimeToLiveRequest { ID = lease, Keys = true }, deadline: Deadline());
            Assert.InRange(alive.TTL, 1, 5);
            Assert.Equal(5, alive.GrantedTTL);
            Assert.Equal("dn-lease/k", Assert.Single(alive.Keys).ToStringUtf8());
            await keepAlive.CancelAsync();
            try
            {
                await running.WaitAsync(CallTimeout);
            }
            catch (Exception exception) when (exception is OperationCanceledException or RpcException)
            {
                // stopping the keepalive loop
            }
        }
        LocalCluster.WaitUntil(() => client.LeaseTimeToLive(new Api.LeaseTimeToLiveRequest { ID = lease }, deadline: Deadline()).TTL == -1,
            TimeSpan.FromSeconds(20), "the lease to expire once nobody keeps it alive");
        Assert.Equal(0, (await client.GetAsync("dn-lease/k", deadline: Deadline())).Count);
    }

    [Fact]
    public async Task Lock_IsMutuallyExclusive_TheWaiterGetsItAtUnlock_WithALargerCreateRevision()
    {
        var first = Client(_cluster.ClientUrls[0]);
        var second = Client(_cluster.ClientUrls[1]);
        var leaseA = (await first.LeaseGrantAsync(new Api.LeaseGrantRequest { TTL = 30 }, deadline: Deadline())).ID;
        var leaseB = (await second.LeaseGrantAsync(new Api.LeaseGrantRequest { TTL = 30 }, deadline: Deadline())).ID;
        var held = await first.LockAsync(new LockApi.LockRequest { Name = Bytes("dn-lock"), Lease = leaseA }, deadline: Deadline());
        Assert.Equal($"dn-lock/{leaseA:x}", held.Key.ToStringUtf8());
        var waiting = second.LockAsync(new LockApi.LockRequest { Name = Bytes("dn-lock"), Lease = leaseB }, deadline: Deadline());
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.False(waiting.IsCompleted, "a second holder while the first holds the lock");
        await first.UnlockAsync(new LockApi.UnlockRequest { Key = held.Key }, deadline: Deadline());
        var next = await waiting.WaitAsync(CallTimeout);
        Assert.Equal($"dn-lock/{leaseB:x}", next.Key.ToStringUtf8());
        var heldKv = (await first.GetAsync(next.Key.ToStringUtf8(), deadline: Deadline())).Kvs[0];
        Assert.True(heldKv.CreateRevision > held.Header.Revision, "the later holder's key is newer: a usable fencing token");
        await second.UnlockAsync(next.Key.ToStringUtf8(), deadline: Deadline());
    }

    [Fact]
    public async Task Lock_WithoutALease_GrantsASixtySecondSessionLease()
    {
        var client = Client();
        var held = await client.LockAsync(new LockApi.LockRequest { Name = Bytes("dn-lock-nolease") }, deadline: Deadline());
        var kv = (await client.GetAsync(held.Key.ToStringUtf8(), deadline: Deadline())).Kvs[0];
        Assert.NotEqual(0, kv.Lease);
        Assert.Equal($"dn-lock-nolease/{kv.Lease:x}", held.Key.ToStringUtf8());
        var ttl = await client.LeaseTimeToLiveAsync(new Api.LeaseTimeToLiveRequest { ID = kv.Lease }, deadline: Deadline());
        Assert.Equal(60, ttl.GrantedTTL);
        await client.UnlockAsync(held.Key.ToStringUtf8(), deadline: Deadline());
        Assert.Equal(0, (await client.GetAsync(held.Key.ToStringUtf8(), deadline: Deadline())).Count);
    }

    /// <summary>docs/fencing.md: the lock key's create revision is the fencing token.</summary>
    [Fact]
    public async Task Fencing_APausedHolderWhoseLeaseExpired_CannotOverwriteTheGuardedResource()
    {
        var a = Client(_cluster.ClientUrls[0]);
        var b = Client(_cluster.ClientUrls[1]);
        var leaseA = (await a.LeaseGrantAsync(new Api.LeaseGrantRequest { TTL = 4 }, deadline: Deadline())).ID;
        var lockA = await a.LockAsync(new LockApi.LockRequest { Name = Bytes("dn-fence"), Lease = leaseA }, deadline: Deadline());
        var tokenA = (await a.GetAsync(lockA.Key.ToStringUtf8(), deadline: Deadline())).Kvs[0].CreateRevision;
        Assert.True(await GuardedWriteAsync(a, lockA.Key, tokenA, "written by a"));

        // A pauses (no keepalive, like a long GC pause); its lease runs out and B gets the lock.
        var leaseB = (await b.LeaseGrantAsync(new Api.LeaseGrantRequest { TTL = 30 }, deadline: Deadline())).ID;
        var lockB = await b.LockAsync(new LockApi.LockRequest { Name = Bytes("dn-fence"), Lease = leaseB }, deadline: DateTime.UtcNow.AddSeconds(30));
        var tokenB = (await b.GetAsync(lockB.Key.ToStringUtf8(), deadline: Deadline())).Kvs[0].CreateRevision;
        Assert.True(tokenB > tokenA, $"token {tokenB} of the new holder must exceed {tokenA}");
        Assert.True(await GuardedWriteAsync(b, lockB.Key, tokenB, "written by b"));

        // A wakes up still believing it holds the lock: its guarded write is refused, B's value stays.
        Assert.False(await GuardedWriteAsync(a, lockA.Key, tokenA, "late write by a"));
        Assert.Equal("written by b", (await b.GetAsync("dn-fence-resource", deadline: Deadline())).Kvs[0].Value.ToStringUtf8());
        await b.UnlockAsync(lockB.Key.ToStringUtf8(), deadline: Deadline());
    }

    [Fact]
    public async Task Election_Campaign_Leader_Observe_Proclaim_Resign_HandOver()
    {
        var alice = Client(_cluster.ClientUrls[0]);
        var bob = Client(_cluster.ClientUrls[2]);
        var empty = await Assert.ThrowsAsync<RpcException>(() => alice.LeaderAsync("dn-elect-empty", deadline: Deadline()));
        Assert.Equal((StatusCode.Unknown, "election: no leader"), (empty.StatusCode, empty.Status.Detail));
        var leaseA = (await alice.LeaseGrantAsync(new Api.LeaseGrantRequest { TTL = 30 }, deadline: Deadline())).ID;
        var leaseB = (await bob.LeaseGrantAsync(new Api.LeaseGrantRequest { TTL = 30 }, deadline: Deadline())).ID;
        var won = await alice.CampaignAsync(new ElectionApi.CampaignRequest { Name = Bytes("dn-elect"), Lease = leaseA, Value = Bytes("alice") }, deadline: Deadline());
        Assert.Equal($"dn-elect/{leaseA:x}", won.Leader.Key.ToStringUtf8());
        Assert.Equal("alice", (await bob.LeaderAsync("dn-elect", deadline: Deadline())).Kv.Value.ToStringUtf8());

        using var observing = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new List<string>();
        var observer = Task.Run(async () =>
        {
            await foreach (var response in bob.ObserveAsync("dn-elect", cancellationToken: observing.Token))
            {
                lock (seen)
                {
                    seen.Add(response.Kv.Value.ToStringUtf8());
                }
            }
        });
        LocalCluster.WaitUntil(() => Seen(seen).Contains("alice"), TimeSpan.FromSeconds(15), "the observer to see alice");

        var bobCampaign = bob.CampaignAsync(new ElectionApi.CampaignRequest { Name = Bytes("dn-elect"), Lease = leaseB, Value = Bytes("bob") }, deadline: Deadline());
        await alice.ProclaimAsync(won.Leader, "alice-2", deadline: Deadline());
        LocalCluster.WaitUntil(() => Seen(seen).Contains("alice-2"), TimeSpan.FromSeconds(15), "the observer to see the proclamation");
        Assert.False(bobCampaign.IsCompleted, "bob elected while alice leads");

        await alice.ResignAsync(won.Leader, deadline: Deadline());
        var bobWon = await bobCampaign.WaitAsync(CallTimeout);
        Assert.Equal($"dn-elect/{leaseB:x}", bobWon.Leader.Key.ToStringUtf8());
        LocalCluster.WaitUntil(() => Seen(seen).Contains("bob"), TimeSpan.FromSeconds(15), "the observer to see bob");
        Assert.Equal(["alice", "alice-2", "bob"], Seen(seen).Distinct().ToArray());

        var stale = await Assert.ThrowsAsync<RpcException>(() => alice.ProclaimAsync(won.Leader, "again", deadline: Deadline()));
        Assert.Equal((StatusCode.Unknown, "election: not leader"), (stale.StatusCode, stale.Status.Detail));
        await bob.ResignAsync(bobWon.Leader, deadline: Deadline());
        await observing.CancelAsync();
        try
        {
            await observer.WaitAsync(CallTimeout);
        }
        catch (Exception exception) when (exception is OperationCanceledException or RpcException)
        {
            // the observer ends with its cancellation
        }
    }

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }

    /// <summary>Writes the resource only if the lock key still exists with the token as its create revision.</summary>
    private static async Task<bool> GuardedWriteAsync(EtcdClient client, ByteString lockKey, long token, string value)
    {
        var txn = new Api.TxnRequest();
        txn.Compare.Add(new Api.Compare
        {
            Key = lockKey, Target = Api.Compare.Types.CompareTarget.Create, Result = Api.Compare.Types.CompareResult.Equal, CreateRevision = token,
        });
        txn.Success.Add(new Api.RequestOp { RequestPut = new Api.PutRequest { Key = Bytes("dn-fence-resource"), Value = Bytes(value) } });
        return (await client.TransactionAsync(txn, deadline: Deadline())).Succeeded;
    }

    private static string[] Seen(List<string> seen)
    {
        lock (seen)
        {
            return [.. seen];
        }
    }

    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    private static DateTime Deadline() => DateTime.UtcNow + CallTimeout;

    private EtcdClient Client(string? connectionString = null)
    {
        var client = new EtcdClient(connectionString ?? _cluster.Endpoints);
        _clients.Add(client);
        return client;
    }
}
