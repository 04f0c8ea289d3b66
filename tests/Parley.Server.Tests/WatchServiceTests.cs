using Google.Protobuf;
using Grpc.Core;
using EtcdPb = Etcdserverpb;
using FilterType = Etcdserverpb.WatchCreateRequest.Types.FilterType;
using EventType = Mvccpb.Event.Types.EventType;

namespace Parley.Server.Tests;

/// <summary>A member in the test process whose idle watchers hear progress every 300 ms.</summary>
public sealed class WatchMemberFixture : IAsyncLifetime
{
    public InProcessMember Member { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Member = await InProcessMember.StartAsync(new Dictionary<string, string> { ["experimental-watch-progress-notify-interval"] = "300ms" });

    public async Task DisposeAsync() => await Member.DisposeAsync();
}

/// <summary>etcd 3.4's watch protocol (compat doc §4.8) through Parley's own client stubs against one in-process member.</summary>
public sealed class WatchServiceTests(WatchMemberFixture fixture) : IClassFixture<WatchMemberFixture>
{
    private readonly InProcessMember _member = fixture.Member;

    [Fact]
    public async Task Create_ServerAssignsIdsFromZero_CreatedCarriesCurrentRevision_ThenLiveEventsInOrder()
    {
        await using var watch = new WatchSession(_member.Watch);
        var before = await _member.PutAsync("live/x", "0");
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("live/a") });
        var created = await watch.NextAsync();
        Assert.True(created.Created);
        Assert.False(created.Canceled);
        Assert.Equal(0, created.WatchId);
        Assert.Equal(before, created.Header.Revision);
        Assert.Equal(_member.Server.ClusterId, created.Header.ClusterId);
        Assert.Equal(_member.Server.MemberId, created.Header.MemberId);
        Assert.True(created.Header.RaftTerm >= 1);
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("live/"), RangeEnd = B("live0") });
        Assert.Equal(1, (await watch.NextAsync()).WatchId);

        var first = await _member.PutAsync("live/a", "1");
        var second = await _member.PutAsync("live/b", "2");
        var deleted = await _member.DeleteAsync("live/a");
        var seen = new List<(long WatchId, string Event)>();
        while (seen.Count < 5)
        {
            var response = await watch.NextAsync();
            Assert.Empty(response.CancelReason);
            Assert.True(response.Header.Revision >= response.Events.Max(e => e.Kv.ModRevision));
            seen.AddRange(response.Events.Select(e => (response.WatchId, Describe(e))));
        }
        Assert.Equal([(0, $"PUT live/a=1@{first}"), (0, $"DELETE live/a=@{deleted}")], seen.Where(e => e.WatchId == 0).ToArray());
        Assert.Equal([(1, $"PUT live/a=1@{first}"), (1, $"PUT live/b=2@{second}"), (1, $"DELETE live/a=@{deleted}")], seen.Where(e => e.WatchId == 1).ToArray());
        Assert.Null(await watch.NextOrNullAsync(TimeSpan.FromMilliseconds(200))); // nothing else: each event once
    }

    [Fact]
    public async Task ClientChosenIds_AreKept_AutoIdsSkipThem_AndADuplicateIsRefusedWithEtcdsReason()
    {
        await using var watch = new WatchSession(_member.Watch);
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("ids/a"), WatchId = 2 });
        Assert.Equal(2, (await watch.NextAsync()).WatchId);
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("ids/b"), WatchId = 0 });
        Assert.Equal(0, (await watch.NextAsync()).WatchId);
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("ids/b"), WatchId = 1 });
        Assert.Equal(1, (await watch.NextAsync()).WatchId);
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("ids/c") });
        Assert.Equal(3, (await watch.NextAsync()).WatchId); // 0, 1, 2 are taken

        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("ids/d"), WatchId = 2 });
        var duplicate = await watch.NextAsync();
        Assert.True(duplicate.Created);
        Assert.True(duplicate.Canceled);
        Assert.Equal(-1, duplicate.WatchId);
        Assert.Equal("mvcc: duplicate watch ID provided on the WatchStream", duplicate.CancelReason);

        var revision = await _member.PutAsync("ids/a", "v");
        var events = await watch.NextAsync();
        Assert.Equal(2, events.WatchId);
        Assert.Equal($"PUT ids/a=v@{revision}", Describe(Assert.Single(events.Events)));
    }

    [Fact]
    public async Task EmptyRange_IsRefusedWithEtcdsReason_AndEmptyKeyMeansTheKeyNul()
    {
        await using var watch = new WatchSession(_member.Watch);
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("b"), RangeEnd = B("a") });
        var refused = await watch.NextAsync();
        Assert.True(refused.Created && refused.Canceled);
        Assert.Equal(-1, refused.WatchId);
        Assert.Equal("mvcc: watcher range is empty", refused.CancelReason);

        await watch.CreateAsync(new EtcdPb.WatchCreateRequest()); // key "\0" alone: sees nothing of ordinary keys
        var created = await watch.NextAsync();
        Assert.True(created.Created && !created.Canceled);
        await _member.PutAsync("nul/ordinary", "v");
        Assert.Null(await watch.NextOrNullAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task StartRevision_ReplaysHistory_ThenLive_WithPrevKvByEtcdsRules()
    {
        var created = await _member.PutAsync("hist/k", "1");
        var updated = await _member.PutAsync("hist/k", "2");
        var deleted = await _member.DeleteAsync("hist/k");
        await using var watch = new WatchSession(_member.Watch);
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("hist/"), RangeEnd = B("hist0"), StartRevision = created, PrevKv = true });
        Assert.True((await watch.NextAsync()).Created);
        var replay = await watch.NextAsync();
        Assert.Equal(3, replay.Events.Count); // one catch-up response
        Assert.Null(replay.Events[0].PrevKv); // a put that created the key has no previous value
        Assert.Equal(("1", created), (replay.Events[1].PrevKv.Value.ToStringUtf8(), replay.Events[1].PrevKv.ModRevision));
        Assert.Equal(EventType.Delete, replay.Events[2].Type);
        Assert.Equal(deleted, replay.Events[2].Kv.ModRevision);
        Assert.Equal(0, replay.Events[2].Kv.Version);
        Assert.Equal(("2", updated), (replay.Events[2].PrevKv.Value.ToStringUtf8(), replay.Events[2].PrevKv.ModRevision));
        var live = await _member.PutAsync("hist/k", "3");
        var next = Assert.Single((await watch.NextAsync()).Events);
        Assert.Equal($"PUT hist/k=3@{live}", Describe(next));
        Assert.Null(next.PrevKv); // re-created after the delete
    }

    [Fact]
    public async Task Filters_NoPut_And_NoDelete_DropThoseEvents_AndAllFilteredSendsNothing()
    {
        await using var watch = new WatchSession(_member.Watch);
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("flt/k"), Filters = { FilterType.Noput }, WatchId = 10 });
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("flt/k"), Filters = { FilterType.Nodelete }, WatchId = 11 });
        await watch.NextAsync();
        await watch.NextAsync();
        var put = await _member.PutAsync("flt/k", "v");
        var delete = await _member.DeleteAsync("flt/k");
        var first = await watch.NextAsync();
        var second = await watch.NextAsync();
        var byId = new[] { first, second }.ToDictionary(r => r.WatchId, r => Describe(Assert.Single(r.Events)));
        Assert.Equal($"DELETE flt/k=@{delete}", byId[10]);
        Assert.Equal($"PUT flt/k=v@{put}", byId[11]);
        Assert.Null(await watch.NextOrNullAsync(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task Cancel_RepliesCanceled_StopsEvents_AndUnknownIdsAreIgnored()
    {
        await using var watch = new WatchSession(_member.Watch);
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("cxl/k") });
        var id = (await watch.NextAsync()).WatchId;
        await watch.CancelAsync(12345);
        await watch.CancelAsync(id);
        var canceled = await watch.NextAsync();
        Assert.Equal(id, canceled.WatchId);
        Assert.True(canceled.Canceled);
        Assert.False(canceled.Created);
        Assert.Empty(canceled.CancelReason);
        await _member.PutAsync("cxl/k", "v");
        await watch.RequestProgressAsync();
        var progress = await watch.NextAsync(); // the progress answer, not an event: the watcher is gone
        Assert.Equal(-1, progress.WatchId);
        Assert.Empty(progress.Events);
    }

    [Fact]
    public async Task CompactedStartRevision_IsCreated_ThenCanceledWithTheCompactRevision_LikeEtcd()
    {
        var old = await _member.PutAsync("cmp/k", "1");
        var compactAt = await _member.PutAsync("cmp/k", "2");
        await _member.Kv.CompactAsync(new EtcdPb.CompactionRequest { Revision = compactAt }, InProcessMember.Deadline());
        await using var watch = new WatchSession(_member.Watch);
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("cmp/k"), StartRevision = old, WatchId = 7 });
        var created = await watch.NextAsync();
        Assert.True(created.Created && !created.Canceled);
        var canceled = await watch.NextAsync();
        Assert.Equal(7, canceled.WatchId);
        Assert.True(canceled.Canceled);
        Assert.Equal(compactAt, canceled.CompactRevision);
        Assert.Empty(canceled.CancelReason);
        Assert.Equal(0, canceled.Header.Revision);
        Assert.Empty(canceled.Events);

        // At the compact revision itself the history is still there.
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("cmp/k"), StartRevision = compactAt, WatchId = 7 });
        Assert.True((await watch.NextAsync()).Created);
        Assert.Equal($"PUT cmp/k=2@{compactAt}", Describe(Assert.Single((await watch.NextAsync()).Events)));
    }

    [Fact]
    public async Task ProgressRequest_IsAnsweredAtOnce_WithWatchIdMinusOne_AndTheCurrentRevision()
    {
        await using var watch = new WatchSession(_member.Watch);
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("prq/k") });
        await watch.NextAsync();
        var revision = await _member.PutAsync("prq/other", "v");
        await watch.RequestProgressAsync();
        var progress = await watch.NextAsync();
        Assert.Equal(-1, progress.WatchId);
        Assert.Equal(revision, progress.Header.Revision);
        Assert.Empty(progress.Events);
        Assert.False(progress.Created || progress.Canceled);
    }

    [Fact]
    public async Task ProgressNotify_ReachesIdleWatchersThatAskedForIt_Only()
    {
        await using var watch = new WatchSession(_member.Watch);
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("pn/quiet"), WatchId = 1 });
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("pn/asks"), WatchId = 2, ProgressNotify = true });
        await watch.NextAsync();
        await watch.NextAsync();
        var notifications = new List<EtcdPb.WatchResponse>();
        for (var i = 0; i < 3; i++)
        {
            notifications.Add(await watch.NextAsync(timeoutSeconds: 10)); // the interval is 300 ms
        }
        Assert.All(notifications, n =>
        {
            Assert.Equal(2, n.WatchId);
            Assert.Empty(n.Events);
            Assert.False(n.Created || n.Canceled);
            Assert.Equal(0, n.CompactRevision);
            Assert.True(n.Header.Revision > 0);
        });
    }

    [Fact]
    public async Task Fragment_SplitsAResponseOverTheLimit_IntoPartsMarkedFragment_ExceptTheLast()
    {
        var value = new string('x', 1_000_000);
        foreach (var key in new[] { "frag/a", "frag/b", "frag/c" })
        {
            await _member.PutAsync(key, value);
        }
        await using var watch = new WatchSession(_member.Watch);
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("frag/"), RangeEnd = B("frag0"), PrevKv = true, Fragment = true, WatchId = 1 });
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("frag/"), RangeEnd = B("frag0"), PrevKv = true, WatchId = 2 });
        await watch.NextAsync();
        await watch.NextAsync();
        var deleted = await _member.DeleteAsync("frag/", "frag0"); // one revision, three events with 1 MB previous values
        var parts = new List<EtcdPb.WatchResponse>();
        EtcdPb.WatchResponse? whole = null;
        while (whole is null || parts.Count == 0 || parts[^1].Fragment)
        {
            var response = await watch.NextAsync();
            if (response.WatchId == 1)
            {
                parts.Add(response);
            }
            else
            {
                whole = response;
            }
        }
        Assert.Equal(3, whole.Events.Count);
        Assert.False(whole.Fragment);
        Assert.True(parts.Count >= 2);
        Assert.All(parts[..^1], part => Assert.True(part.Fragment));
        Assert.All(parts, part => Assert.True(part.CalculateSize() < 2 * 1024 * 1024 + 1_100_000));
        Assert.Equal(["frag/a", "frag/b", "frag/c"], parts.SelectMany(p => p.Events).Select(e => e.Kv.Key.ToStringUtf8()).ToArray());
        Assert.All(parts.SelectMany(p => p.Events), e => Assert.Equal((deleted, 1_000_000), (e.Kv.ModRevision, e.PrevKv.Value.Length)));
    }

    [Fact]
    public async Task SlowClient_ThatReadsNothing_ThenEverything_GetsEveryEventOnceInOrder()
    {
        await using var watch = new WatchSession(_member.Watch, startReading: false);
        // An explicit start revision: the create is only sent here (its answer is read later), so the server may apply
        // the first puts before it creates the watch, and a watch from "now" would rightly leave those out.
        var before = await _member.PutAsync("slow-start", "x"); // outside the watched range
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("slow/"), RangeEnd = B("slow0"), StartRevision = before + 1 });
        var revisions = new List<long>();
        var value = new string('v', 2000);
        var writers = Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            var mine = new List<long>();
            for (var i = 0; i < 150; i++)
            {
                mine.Add(await _member.PutAsync($"slow/{writer}/{i}", value));
            }
            return mine;
        })).ToArray();
        foreach (var mine in await Task.WhenAll(writers))
        {
            revisions.AddRange(mine);
        }
        watch.StartReading();
        Assert.True((await watch.NextAsync()).Created);
        var seen = new List<long>();
        while (seen.Count < revisions.Count)
        {
            seen.AddRange((await watch.NextAsync()).Events.Select(e => e.Kv.ModRevision));
        }
        Assert.Equal(revisions.Order(), seen);
        Assert.Null(await watch.NextOrNullAsync(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task HasLeaderMetadata_OnAMemberWithoutLeader_FailsTheStreamWithNoLeader()
    {
        await using var alone = await InProcessMember.StartAsync(clusterSize: 3); // its two peers never start
        await using var watch = new WatchSession(alone.Watch, new Metadata { { "hasleader", "true" } });
        await watch.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("k") }).ContinueWith(_ => { }, TaskScheduler.Default);
        var failure = await watch.EndAsync();
        Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
        Assert.Equal("etcdserver: no leader", failure.Status.Detail);

        // Without the metadata the stream is served (the watcher waits for the cluster to form).
        await using var patient = new WatchSession(alone.Watch);
        await patient.CreateAsync(new EtcdPb.WatchCreateRequest { Key = B("k") });
        Assert.True((await patient.NextAsync()).Created);
    }

    private static ByteString B(string text) => ByteString.CopyFromUtf8(text);

    private static string Describe(Mvccpb.Event e) => $"{e.Type.ToString().ToUpperInvariant()} {e.Kv.Key.ToStringUtf8()}={e.Kv.Value.ToStringUtf8()}@{e.Kv.ModRevision}";
}
