extern alias DotnetEtcd;

using System.Collections.Concurrent;
using DotnetEtcd::dotnet_etcd;
using Google.Protobuf;
using Api = DotnetEtcd::Etcdserverpb;
using EventType = DotnetEtcd::Mvccpb.Event.Types.EventType;

namespace Parley.Server.Tests;

/// <summary>
/// Watch through the NuGet client dotnet-etcd 9.1.0 (one shared stream, client-chosen watch ids, prev_kv and
/// progress_notify as it sets them) against the real 3-member cluster; writes go through other members.
/// </summary>
[Collection(ClientLibrariesCollection.Name)]
public sealed class DotnetEtcdWatchTests(ClusterFixture fixture) : IDisposable
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(20);

    private readonly LocalCluster _cluster = fixture.Cluster;
    private readonly List<EtcdClient> _clients = [];

    [Fact]
    public async Task WatchRange_ReceivesPutsAndDeletes_InRevisionOrder_ExactlyOnce()
    {
        var watching = Client(_cluster.ClientUrls[0]);
        var writing = Client(_cluster.ClientUrls[1]);
        var start = (await writing.GetAsync("dn/watch/none", deadline: Deadline())).Header.Revision + 1;
        var responses = new ConcurrentQueue<Api.WatchResponse>();
        var request = new Api.WatchRequest
        {
            CreateRequest = new Api.WatchCreateRequest
            {
                Key = ByteString.CopyFromUtf8("dn/watch/"), RangeEnd = ByteString.CopyFromUtf8("dn/watch0"), StartRevision = start, PrevKv = true,
            },
        };
        var watchId = await watching.WatchAsync(request, responses.Enqueue);

        var a = await writing.PutAsync("dn/watch/a", "1", deadline: Deadline());
        var b = await writing.PutAsync("dn/watch/b", "2", deadline: Deadline());
        var overwrite = await writing.PutAsync("dn/watch/a", "3", deadline: Deadline());
        var delete = await writing.DeleteAsync("dn/watch/b", deadline: Deadline());
        await writing.PutAsync("dn/other", "not watched", deadline: Deadline());

        var events = await EventsAsync(responses, 4);
        Assert.Equal(
            [
                (EventType.Put, "dn/watch/a", "1", a.Header.Revision),
                (EventType.Put, "dn/watch/b", "2", b.Header.Revision),
                (EventType.Put, "dn/watch/a", "3", overwrite.Header.Revision),
                (EventType.Delete, "dn/watch/b", "", delete.Header.Revision),
            ],
            events.Select(e => (e.Type, e.Kv.Key.ToStringUtf8(), e.Kv.Value.ToStringUtf8(), e.Kv.ModRevision)).ToArray());
        Assert.Equal("1", events[2].PrevKv.Value.ToStringUtf8());
        Assert.Equal("2", events[3].PrevKv.Value.ToStringUtf8());
        Assert.All(responses, response => Assert.True(response.WatchId == watchId || response.Events.Count == 0));

        watching.CancelWatch(watchId);
        await writing.PutAsync("dn/watch/a", "after cancel", deadline: Deadline());
        await Task.Delay(300);
        Assert.Equal(4, responses.Sum(response => response.Events.Count));
    }

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }

    private static async Task<List<DotnetEtcd::Mvccpb.Event>> EventsAsync(ConcurrentQueue<Api.WatchResponse> responses, int count)
    {
        var deadline = DateTime.UtcNow + EventTimeout;
        while (responses.Sum(response => response.Events.Count) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {responses.Sum(response => response.Events.Count)} of {count} events within {EventTimeout.TotalSeconds} s");
            await Task.Delay(50);
        }
        return responses.SelectMany(response => response.Events).ToList();
    }

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(10);

    private EtcdClient Client(string connectionString)
    {
        var client = new EtcdClient(connectionString);
        _clients.Add(client);
        return client;
    }
}
