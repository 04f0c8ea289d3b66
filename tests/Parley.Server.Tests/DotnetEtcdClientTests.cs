extern alias DotnetEtcd;

using DotnetEtcd::dotnet_etcd;
using Google.Protobuf;
using Grpc.Core;
using Api = DotnetEtcd::Etcdserverpb;

namespace Parley.Server.Tests;

/// <summary>
/// Claims checked with the real NuGet client dotnet-etcd (its own generated stubs, round-robin over the endpoints it is
/// given, Grpc.Net.Client transport) against a real 3-member cluster of `parley serve` processes.
/// </summary>
[Collection(ClientLibrariesCollection.Name)]
public sealed class DotnetEtcdClientTests(ClusterFixture fixture) : IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    private readonly LocalCluster _cluster = fixture.Cluster;
    private readonly List<EtcdClient> _clients = [];

    /// <summary>One client over all three endpoints given as etcdctl takes them (host:port,...); single-member clients use http:// URLs.</summary>
    private EtcdClient All => _all ??= Client(_cluster.Endpoints);

    private EtcdClient? _all;

    [Fact]
    public async Task Put_Then_Get_ReturnsValue_Revisions_AndHeader()
    {
        var put = await All.PutAsync("dn/put", "v1", deadline: Deadline());
        var firstRevision = put.Header.Revision;
        Assert.True(firstRevision > 0);
        Assert.NotEqual(0UL, put.Header.ClusterId);
        Assert.NotEqual(0UL, put.Header.MemberId);
        Assert.True(put.Header.RaftTerm >= 1);

        var get = await All.GetAsync("dn/put", deadline: Deadline());
        var kv = Assert.Single(get.Kvs);
        Assert.Equal("dn/put", kv.Key.ToStringUtf8());
        Assert.Equal("v1", kv.Value.ToStringUtf8());
        Assert.Equal(firstRevision, kv.CreateRevision);
        Assert.Equal(firstRevision, kv.ModRevision);
        Assert.Equal(1, kv.Version);
        Assert.Equal(1, get.Count);
        Assert.False(get.More);
        Assert.True(get.Header.Revision >= firstRevision);
        Assert.Equal(put.Header.ClusterId, get.Header.ClusterId);

        var second = await All.PutAsync(new Api.PutRequest { Key = Bytes("dn/put"), Value = Bytes("v2"), PrevKv = true }, deadline: Deadline());
        Assert.True(second.Header.Revision > firstRevision);
        Assert.Equal("v1", second.PrevKv.Value.ToStringUtf8());
        Assert.Equal(firstRevision, second.PrevKv.ModRevision);

        Assert.Equal("v2", await All.GetValAsync("dn/put", deadline: Deadline()));
        kv = Assert.Single((await All.GetAsync("dn/put", deadline: Deadline())).Kvs);
        Assert.Equal((firstRevision, second.Header.Revision, 2L), (kv.CreateRevision, kv.ModRevision, kv.Version));

        // A read at the first revision sees the first value (MVCC history through the client's RangeRequest).
        var old = await All.GetAsync(new Api.RangeRequest { Key = Bytes("dn/put"), Revision = firstRevision }, deadline: Deadline());
        Assert.Equal("v1", Assert.Single(old.Kvs).Value.ToStringUtf8());
    }

    [Fact]
    public async Task Follower_Endpoint_ForwardsWrites_And_ServesLinearizableAndSerializableReads()
    {
        var leader = WaitForLeader();
        var follower = (leader + 1) % 3;
        var viaFollower = Client(_cluster.ClientUrls[follower]);
        var viaLeader = Client(_cluster.ClientUrls[leader]);

        var put = await viaFollower.PutAsync("dn/follower", "from-follower", deadline: Deadline());
        Assert.Equal(MemberId(follower), put.Header.MemberId);

        // Linearizable read on the leader sees the write forwarded by the follower.
        var onLeader = await viaLeader.GetAsync("dn/follower", deadline: Deadline());
        Assert.Equal("from-follower", Assert.Single(onLeader.Kvs).Value.ToStringUtf8());
        Assert.Equal(put.Header.Revision, onLeader.Kvs[0].ModRevision);

        // A write on the leader is visible to a linearizable read through the follower at once (ReadIndex there).
        var overwrite = await viaLeader.PutAsync("dn/follower", "from-leader", deadline: Deadline());
        var onFollower = await viaFollower.GetAsync("dn/follower", deadline: Deadline());
        Assert.Equal("from-leader", Assert.Single(onFollower.Kvs).Value.ToStringUtf8());
        Assert.Equal(overwrite.Header.Revision, onFollower.Kvs[0].ModRevision);
        Assert.True(onFollower.Header.Revision >= overwrite.Header.Revision);
        Assert.Equal(MemberId(follower), onFollower.Header.MemberId);

        // ...and then by a serializable (local) read there too.
        var serializable = await viaFollower.GetAsync(new Api.RangeRequest { Key = Bytes("dn/follower"), Serializable = true }, deadline: Deadline());
        Assert.Equal("from-leader", Assert.Single(serializable.Kvs).Value.ToStringUtf8());
    }

    [Fact]
    public async Task GetRange_ByPrefix_IsSortedByKey_And_DeleteRange_RemovesOnlyThePrefix()
    {
        foreach (var key in new[] { "dn/range/b", "dn/range/a", "dn/range/c", "dn/rangeX" })
        {
            await All.PutAsync(key, "value-" + key, deadline: Deadline());
        }

        var range = await All.GetRangeAsync("dn/range/", deadline: Deadline());
        Assert.Equal(["dn/range/a", "dn/range/b", "dn/range/c"], range.Kvs.Select(kv => kv.Key.ToStringUtf8()));
        Assert.Equal(3, range.Count);
        Assert.All(range.Kvs, kv => Assert.Equal("value-" + kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8()));

        var values = await All.GetRangeValAsync("dn/range/", deadline: Deadline());
        Assert.Equal("value-dn/range/b", values["dn/range/b"]);
        Assert.Equal(3, values.Count);

        var limited = await All.GetAsync(new Api.RangeRequest
        {
            Key = Bytes("dn/range/"), RangeEnd = Bytes("dn/range0"), Limit = 1, SortOrder = Api.RangeRequest.Types.SortOrder.Descend,
        }, deadline: Deadline());
        Assert.Equal("dn/range/c", Assert.Single(limited.Kvs).Key.ToStringUtf8());
        Assert.True(limited.More);
        Assert.Equal(3, limited.Count);

        var deleted = await All.DeleteRangeAsync("dn/range/", deadline: Deadline());
        Assert.Equal(3, deleted.Deleted);
        Assert.Empty((await All.GetRangeAsync("dn/range/", deadline: Deadline())).Kvs);
        Assert.Equal("value-dn/rangeX", await All.GetValAsync("dn/rangeX", deadline: Deadline()));
    }

    [Fact]
    public async Task Delete_OneKey_ReturnsDeletedCount_And_PrevKv()
    {
        var put = await All.PutAsync("dn/delete", "gone soon", deadline: Deadline());
        var deleted = await All.DeleteAsync(new Api.DeleteRangeRequest { Key = Bytes("dn/delete"), PrevKv = true }, deadline: Deadline());
        Assert.Equal(1, deleted.Deleted);
        Assert.Equal("gone soon", Assert.Single(deleted.PrevKvs).Value.ToStringUtf8());
        Assert.Equal(put.Header.Revision + 1, deleted.Header.Revision);

        var get = await All.GetAsync("dn/delete", deadline: Deadline());
        Assert.Empty(get.Kvs);
        Assert.Equal(0, get.Count);
        Assert.Equal("", await All.GetValAsync("dn/delete", deadline: Deadline()));

        var again = await All.DeleteAsync("dn/delete", deadline: Deadline());
        Assert.Equal(0, again.Deleted);
    }

    [Fact]
    public async Task Transaction_CompareAndSwap_SucceedsOnce_ThenFails_WithTheFailureBranchResult()
    {
        var initial = await All.PutAsync("dn/cas", "1", deadline: Deadline());

        var swap = await All.TransactionAsync(CompareAndSwap("dn/cas", expected: "1", replacement: "2"), deadline: Deadline());
        Assert.True(swap.Succeeded);
        Assert.Equal(Api.ResponseOp.ResponseOneofCase.ResponsePut, Assert.Single(swap.Responses).ResponseCase);
        Assert.Equal(initial.Header.Revision + 1, swap.Header.Revision);

        var stale = await All.TransactionAsync(CompareAndSwap("dn/cas", expected: "1", replacement: "3"), deadline: Deadline());
        Assert.False(stale.Succeeded);
        var current = Assert.Single(Assert.Single(stale.Responses).ResponseRange.Kvs);
        Assert.Equal("2", current.Value.ToStringUtf8());
        Assert.Equal(swap.Header.Revision, current.ModRevision);
        Assert.Equal(swap.Header.Revision, stale.Header.Revision); // a failed txn that only reads does not advance the revision

        // Guarded by mod_revision, as optimistic-concurrency code does.
        var byRevision = new Api.TxnRequest();
        byRevision.Compare.Add(new Api.Compare
        {
            Key = Bytes("dn/cas"), Target = Api.Compare.Types.CompareTarget.Mod, Result = Api.Compare.Types.CompareResult.Equal, ModRevision = swap.Header.Revision,
        });
        byRevision.Success.Add(new Api.RequestOp { RequestDeleteRange = new Api.DeleteRangeRequest { Key = Bytes("dn/cas") } });
        var guarded = await All.TransactionAsync(byRevision, deadline: Deadline());
        Assert.True(guarded.Succeeded);
        Assert.Equal(1, Assert.Single(guarded.Responses).ResponseDeleteRange.Deleted);
        Assert.Equal("", await All.GetValAsync("dn/cas", deadline: Deadline()));
    }

    [Fact]
    public async Task Compact_ThenReadingAnOlderRevision_FailsWithEtcdsError()
    {
        var first = await All.PutAsync("dn/compact", "a", deadline: Deadline());
        var second = await All.PutAsync("dn/compact", "b", deadline: Deadline());
        var compacted = await All.CompactAsync(new Api.CompactionRequest { Revision = second.Header.Revision }, deadline: Deadline());
        Assert.True(compacted.Header.Revision >= second.Header.Revision);

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            All.GetAsync(new Api.RangeRequest { Key = Bytes("dn/compact"), Revision = first.Header.Revision }, deadline: Deadline()));
        Assert.Equal(StatusCode.OutOfRange, error.StatusCode);
        Assert.Equal("etcdserver: mvcc: required revision has been compacted", error.Status.Detail);
        Assert.Equal("b", await All.GetValAsync("dn/compact", deadline: Deadline()));
    }

    [Fact]
    public async Task EmptyKey_IsRejected_WithEtcdsStatusAndText()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => All.PutAsync("", "x", deadline: Deadline()));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("etcdserver: key is not provided", error.Status.Detail);
    }

    [Fact]
    public async Task MemberList_ShowsEveryMember_WithNames_PeerAndClientUrls()
    {
        var list = await All.MemberListAsync(new Api.MemberListRequest(), deadline: Deadline());
        Assert.Equal(3, list.Members.Count);
        Assert.Equal(_cluster.Names, list.Members.Select(member => member.Name).Order(StringComparer.Ordinal));
        Assert.Equal(3, list.Members.Select(member => member.ID).Distinct().Count());
        Assert.DoesNotContain(0UL, list.Members.Select(member => member.ID));
        Assert.All(list.Members, member => Assert.False(member.IsLearner));
        for (var i = 0; i < 3; i++)
        {
            var member = Assert.Single(list.Members, member => member.Name == _cluster.Names[i]);
            Assert.Equal([_cluster.PeerUrls[i]], member.PeerURLs);
            Assert.Equal([_cluster.ClientUrls[i]], member.ClientURLs); // with the scheme, as etcd advertises them
        }
        Assert.Contains(list.Header.MemberId, list.Members.Select(member => member.ID));
    }

    [Fact]
    public async Task Status_OnEveryMember_AgreesOnTheLeader_AndReportsItself()
    {
        var members = (await All.MemberListAsync(new Api.MemberListRequest(), deadline: Deadline())).Members.Select(member => member.ID).ToHashSet();
        await All.PutAsync("dn/status", "x", deadline: Deadline());
        var statuses = new List<Api.StatusResponse>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add(await Client(_cluster.ClientUrls[i]).StatusAsync(new Api.StatusRequest(), deadline: Deadline()));
        }
        Assert.All(statuses, status =>
        {
            Assert.Equal("3.4.23", status.Version);
            Assert.Contains(status.Header.MemberId, members);
            Assert.True(status.RaftIndex > 0);
            Assert.True(status.RaftTerm >= 1);
            Assert.True(status.DbSize > 0);
            Assert.Empty(status.Errors);
        });
        Assert.Equal(3, statuses.Select(status => status.Header.MemberId).Distinct().Count());
        var leader = Assert.Single(statuses.Select(status => status.Leader).Distinct());
        Assert.Contains(leader, members);
        Assert.Single(statuses.Select(status => status.Header.ClusterId).Distinct());
    }

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }

    private static Api.TxnRequest CompareAndSwap(string key, string expected, string replacement)
    {
        var txn = new Api.TxnRequest();
        txn.Compare.Add(new Api.Compare
        {
            Key = Bytes(key), Target = Api.Compare.Types.CompareTarget.Value, Result = Api.Compare.Types.CompareResult.Equal, Value = Bytes(expected),
        });
        txn.Success.Add(new Api.RequestOp { RequestPut = new Api.PutRequest { Key = Bytes(key), Value = Bytes(replacement) } });
        txn.Failure.Add(new Api.RequestOp { RequestRange = new Api.RangeRequest { Key = Bytes(key) } });
        return txn;
    }

    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    private static DateTime Deadline() => DateTime.UtcNow + CallTimeout;

    private EtcdClient Client(string connectionString)
    {
        var client = new EtcdClient(connectionString);
        _clients.Add(client);
        return client;
    }

    private int WaitForLeader()
    {
        int? leader = null;
        LocalCluster.WaitUntil(() => (leader = _cluster.Leader()) is not null, TimeSpan.FromSeconds(10), "a leader");
        return leader!.Value;
    }

    private ulong MemberId(int member)
    {
        var status = Client(_cluster.ClientUrls[member]).Status(new Api.StatusRequest(), deadline: Deadline());
        return status.Header.MemberId;
    }
}
