using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Tests;

/// <summary>
/// Property: a watcher on every member of a 3-member cluster of real processes, through leader kills, follower kills
/// and restarts, sees every revision exactly once and in order (a watcher whose member died reconnects to it from its
/// last seen revision + 1), all watchers see the same history, it has no gap, and it holds every acknowledged write.
/// </summary>
public sealed class WatchFailoverTests
{
    private const int WritesTotal = 240;
    private const string Prefix = "pw/";
    private static readonly TimeSpan TestBudget = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task WatchersOnEveryMember_ThroughLeaderAndMemberRestarts_SeeEveryRevisionOnce_InOrder_WithoutGaps()
    {
        using var cluster = new LocalCluster(3);
        using var stop = new CancellationTokenSource(TestBudget);
        var seen = Enumerable.Range(0, 3).Select(_ => new List<(long Revision, string Key, string Value)>()).ToArray();
        var reconnects = new int[3];
        var watchers = Enumerable.Range(0, 3).Select(member => Task.Run(() => WatchMemberAsync(cluster, member, seen[member], reconnects, stop.Token))).ToArray();

        var acknowledged = new List<(long Revision, string Key, string Value)>();
        var clock = Stopwatch.StartNew();
        var nemesis = new Dictionary<int, Action>
        {
            [WritesTotal / 5] = () => KillAndRestart(cluster, cluster.Leader() ?? 0, "leader"),
            [2 * WritesTotal / 5] = () => KillAndRestart(cluster, ((cluster.Leader() ?? 0) + 1) % 3, "follower"),
            [3 * WritesTotal / 5] = () => KillAndRestart(cluster, cluster.Leader() ?? 1, "leader again"),
            [4 * WritesTotal / 5] = () => KillAndRestart(cluster, ((cluster.Leader() ?? 0) + 2) % 3, "another follower"),
        };
        using (var channels = new Channels(cluster))
        {
            var target = 0;
            for (var i = 0; i < WritesTotal && clock.Elapsed < TestBudget / 2; i++)
            {
                if (nemesis.TryGetValue(i, out var fault))
                {
                    fault();
                }
                var key = $"{Prefix}{i:D4}";
                var value = $"v{i}";
                // Bounded retries on other members; a write that failed may still have applied (its key is unique).
                for (var attempt = 0; attempt < 6; attempt++, target = (target + 1) % 3)
                {
                    try
                    {
                        var put = await channels.Kv(target).PutAsync(
                            new EtcdPb.PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) },
                            deadline: DateTime.UtcNow.AddSeconds(5));
                        acknowledged.Add((put.Header.Revision, key, value));
                        break;
                    }
                    catch (RpcException)
                    {
                        await Task.Delay(200);
                    }
                }
            }
        }
        Assert.True(acknowledged.Count >= WritesTotal / 2, $"only {acknowledged.Count} of {WritesTotal} writes acknowledged");
        var lastAcknowledged = acknowledged.Max(write => write.Revision);
        string? caughtUpFailure = null;
        try
        {
            LocalCluster.WaitUntil(
                () => watchers.Any(watcher => watcher.IsFaulted) || seen.All(list => { lock (list) { return list.Count > 0 && list[^1].Revision >= lastAcknowledged; } }),
                TimeSpan.FromSeconds(60),
                $"every watcher reached revision {lastAcknowledged}");
        }
        catch (TimeoutException timeout)
        {
            caughtUpFailure = $"{timeout.Message} (last seen: {string.Join(", ", seen.Select(Last))})"; // the checks below say what is missing
        }
        await stop.CancelAsync();
        await Task.WhenAll(watchers);

        var histories = seen.Select(list => { lock (list) { return list.Where(e => e.Revision <= lastAcknowledged).ToList(); } }).ToArray();
        for (var member = 0; member < 3; member++)
        {
            var history = histories[member];
            for (var i = 1; i < history.Count; i++)
            {
                Assert.True(history[i].Revision > history[i - 1].Revision,
                    $"member {member}: revision {history[i].Revision} after {history[i - 1].Revision} (duplicate or out of order)");
            }
            // Every revision since the first write is one of this test's puts: the history has no gap.
            Assert.Equal(Enumerable.Range(2, (int)lastAcknowledged - 1).Select(r => (long)r), history.Select(e => e.Revision));
            foreach (var write in acknowledged)
            {
                Assert.Contains(write, history);
            }
            Assert.Equal(histories[0], history);
        }
        Assert.Null(caughtUpFailure);
        Assert.True(reconnects.Sum() >= 2, $"the faults should have broken some watch streams (reconnects: {string.Join(",", reconnects)})");
    }

    /// <summary>Watches the prefix on one member for as long as the test runs, resuming from the last seen revision + 1.</summary>
    private static async Task WatchMemberAsync(LocalCluster cluster, int member, List<(long Revision, string Key, string Value)> seen, int[] reconnects, CancellationToken stop)
    {
        long next = 2;
        var first = true;
        while (!stop.IsCancellationRequested)
        {
            if (!first)
            {
                Interlocked.Increment(ref reconnects[member]);
            }
            first = false;
            try
            {
                using var channel = GrpcChannel.ForAddress(cluster.ClientUrls[member]);
                var client = new EtcdPb.Watch.WatchClient(channel);
                using var call = client.Watch(cancellationToken: stop);
                await call.RequestStream.WriteAsync(new EtcdPb.WatchRequest
                {
                    CreateRequest = new EtcdPb.WatchCreateRequest { Key = ByteString.CopyFromUtf8(Prefix), RangeEnd = ByteString.CopyFromUtf8("pw0"), StartRevision = next },
                });
                while (await call.ResponseStream.MoveNext(stop))
                {
                    var response = call.ResponseStream.Current;
                    Assert.False(response.Canceled && !response.Created, $"member {member}: watch canceled (compact revision {response.CompactRevision}, reason '{response.CancelReason}')");
                    foreach (var e in response.Events)
                    {
                        lock (seen)
                        {
                            seen.Add((e.Kv.ModRevision, e.Kv.Key.ToStringUtf8(), e.Kv.Value.ToStringUtf8()));
                        }
                        next = e.Kv.ModRevision + 1;
                    }
                }
            }
            catch (RpcException) when (!stop.IsCancellationRequested)
            {
                // the member went away; reconnect below
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException) when (stop.IsCancellationRequested)
            {
                return;
            }
            try
            {
                await Task.Delay(250, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static void KillAndRestart(LocalCluster cluster, int member, string what)
    {
        cluster.Kill(member);
        LocalCluster.WaitUntil(() => cluster.Leader() is { } leader && leader != member, TimeSpan.FromSeconds(20), $"a leader after killing the {what}");
        cluster.Start(member);
        LocalCluster.WaitUntil(() => cluster.IsReady(member), TimeSpan.FromSeconds(30), $"the {what} back");
    }

    private static string Last(List<(long Revision, string Key, string Value)> list)
    {
        lock (list)
        {
            return list.Count == 0 ? "none" : list[^1].Revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private sealed class Channels(LocalCluster cluster) : IDisposable
    {
        private readonly GrpcChannel[] _channels = cluster.ClientUrls.Select(url => GrpcChannel.ForAddress(url)).ToArray();

        public EtcdPb.KV.KVClient Kv(int member) => new(_channels[member]);

        public void Dispose()
        {
            foreach (var channel in _channels)
            {
                channel.Dispose();
            }
        }
    }
}
