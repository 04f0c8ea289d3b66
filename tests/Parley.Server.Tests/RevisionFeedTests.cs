using System.Text;
using Parley.Mvcc;
using Parley.Node;
using Parley.Server.Watch;

namespace Parley.Server.Tests;

/// <summary>The watch feed: ring (synced) and history (unsynced) reads give every event once, in order, whatever happens.</summary>
public class RevisionFeedTests
{
    private MvccStore _store = new();

    [Fact]
    public async Task AttachedReader_ReadsPublishedEvents_FromTheRing_InRevisionOrder()
    {
        var feed = NewFeed();
        using var attachment = feed.Attach();
        Put("a", "1");
        Put("b", "2");
        feed.Publish(_store);
        var read = await feed.ReadAsync(Query(2), CancellationToken.None);
        Assert.False(read.FromHistory);
        Assert.Equal(["a@2", "b@3"], Describe(read.Events));
        Assert.Equal(4, read.Result.NextRevision);
        Assert.Equal(3, feed.Revision);
    }

    [Fact]
    public async Task WithNobodyAttached_NothingIsKept_AndReadsComeFromHistory()
    {
        var feed = NewFeed();
        Put("a", "1");
        feed.Publish(_store);
        var read = await feed.ReadAsync(Query(2), CancellationToken.None);
        Assert.True(read.FromHistory);
        Assert.Equal(["a@2"], Describe(read.Events));
    }

    [Fact]
    public async Task ReaderBehindTheRing_CatchesUpFromHistory_ThenFromTheRing_WithoutGapOrRepeat()
    {
        var feed = NewFeed(ringRevisionsMax: 4);
        using var attachment = feed.Attach();
        for (var i = 0; i < 10; i++)
        {
            Put("k" + i, "v");
            feed.Publish(_store);
        }
        var seen = new List<string>();
        var sources = new List<bool>();
        long next = 2;
        for (var reads = 0; reads < 20 && next <= feed.Revision; reads++)
        {
            var read = await feed.ReadAsync(Query(next, eventsMax: 3), CancellationToken.None);
            seen.AddRange(Describe(read.Events));
            sources.Add(read.FromHistory);
            next = read.Result.NextRevision;
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"k{i}@{i + 2}"), seen);
        Assert.True(sources[0]);
        Assert.False(sources[^1]);
    }

    [Fact]
    public async Task CompactionApplied_AfterPublish_RingStillServes_ButHistoryBelowIt_IsCompacted()
    {
        var feed = NewFeed();
        using var attachment = feed.Attach();
        Put("a", "1"); // 2
        Put("a", "2"); // 3
        feed.Publish(_store); // what ClusterNode.StoreChanging does before the compaction applies
        Assert.True(_store.Compact(new CompactionRequest { Revision = 3 }).IsSuccess);
        var fromRing = await feed.ReadAsync(Query(2, prevKv: true), CancellationToken.None);
        Assert.Equal(["a@2", "a@3"], Describe(fromRing.Events));
        Assert.Equal("1", Encoding.UTF8.GetString(fromRing.Events[1].PrevKv!.Value));

        var cold = NewFeed(); // nobody attached: only history
        var fromHistory = await cold.ReadAsync(Query(2), CancellationToken.None);
        Assert.Equal(MvccError.Compacted, fromHistory.Result.Error);
        Assert.Equal(3, fromHistory.Result.CompactRevision);
    }

    [Fact]
    public async Task SnapshotInstalled_WithHistory_KeepsEveryEvent_AndCompactedPast_SendsReadersToHistory()
    {
        var feed = NewFeed();
        using var attachment = feed.Attach();
        Put("a", "1"); // 2
        feed.Publish(_store);
        // The leader's store went on (3, 4) and its snapshot replaces ours: the gap is still in its change log.
        var leader = MvccStore.Restore(_store.Snapshot()).Value!;
        leader.Put(new PutRequest { Key = Encoding.UTF8.GetBytes("b"), Value = [1] });
        leader.Put(new PutRequest { Key = Encoding.UTF8.GetBytes("c"), Value = [1] });
        feed.Publish(_store); // StoreChanging with the old store: nothing new
        _store = MvccStore.Restore(leader.Snapshot()).Value!;
        feed.Publish(_store);
        var read = await feed.ReadAsync(Query(2), CancellationToken.None);
        Assert.Equal(["a@2", "b@3", "c@4"], Describe(read.Events));
        Assert.False(read.FromHistory);

        // Now a snapshot from a member that compacted past our published revision: those revisions are gone.
        leader.Put(new PutRequest { Key = Encoding.UTF8.GetBytes("d"), Value = [1] }); // 5
        leader.Put(new PutRequest { Key = Encoding.UTF8.GetBytes("d"), Value = [2] }); // 6
        Assert.True(leader.Compact(new CompactionRequest { Revision = 6 }).IsSuccess);
        _store = MvccStore.Restore(leader.Snapshot()).Value!;
        feed.Publish(_store);
        Assert.Equal(6, feed.Revision);
        var gap = await feed.ReadAsync(Query(5), CancellationToken.None);
        Assert.True(gap.FromHistory);
        Assert.Equal(MvccError.Compacted, gap.Result.Error);
        Assert.Equal(6, gap.Result.CompactRevision);
    }

    [Fact]
    public async Task WaitForRevision_CompletesOnPublish_AndFailsWithServerStopped_OnStop()
    {
        var feed = NewFeed();
        using var attachment = feed.Attach();
        var waiting = feed.WaitForRevisionAsync(2, CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        Put("a", "1");
        feed.Publish(_store);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        var never = feed.WaitForRevisionAsync(100, CancellationToken.None);
        feed.Stop();
        var failure = await Assert.ThrowsAsync<NodeUnavailableException>(() => never.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(NodeError.Stopped, failure.Error);
    }

    [Fact]
    public async Task NarrowReader_FarBehind_ScansInBoundedSteps_AndFindsItsKey()
    {
        var feed = NewFeed();
        for (var i = 0; i < RevisionFeed.HistoryChangesScannedMax + 100; i++)
        {
            Put("noise", "v");
        }
        Put("wanted", "v");
        feed.Publish(_store);
        long next = 2;
        var found = new List<MvccEvent>();
        var reads = 0;
        for (; reads < 10 && next <= feed.Revision; reads++)
        {
            var read = await feed.ReadAsync(new EventQuery(next, Encoding.UTF8.GetBytes("wanted"), null, false, 1000), CancellationToken.None);
            found.AddRange(read.Events);
            next = read.Result.NextRevision;
        }
        Assert.Equal(2, reads); // the first read stops after the scan budget, between revisions
        Assert.Equal("wanted", Encoding.UTF8.GetString(Assert.Single(found).Kv.Key));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task RandomWritesPublishesAndReaders_EveryReaderSeesExactlyTheStoresHistory(int seed)
    {
        var random = new Random(seed);
        var feed = NewFeed(ringRevisionsMax: 1 + random.Next(8));
        using var attachment = feed.Attach();
        var readers = Enumerable.Range(0, 4).Select(_ => (Next: 2L, Seen: new List<string>())).ToArray();
        for (var step = 0; step < 400; step++)
        {
            switch (random.Next(6))
            {
                case 0 or 1:
                    Put("k" + random.Next(5), "v" + step);
                    break;
                case 2:
                    _store.DeleteRange(new DeleteRangeRequest { Key = Encoding.UTF8.GetBytes("k" + random.Next(5)) });
                    break;
                case 3:
                    feed.Publish(_store);
                    break;
                default:
                    var index = random.Next(readers.Length);
                    var read = await feed.ReadAsync(Query(readers[index].Next, eventsMax: 1 + random.Next(3)), CancellationToken.None);
                    Assert.Equal(MvccError.None, read.Result.Error);
                    readers[index].Seen.AddRange(Describe(read.Events));
                    readers[index].Next = read.Result.NextRevision;
                    break;
            }
        }
        feed.Publish(_store);
        var expected = new List<MvccEvent>();
        _store.ReadEvents(Query(2), expected);
        foreach (var reader in readers)
        {
            var (next, seen) = reader;
            for (var reads = 0; reads < 1000 && next <= feed.Revision; reads++)
            {
                var read = await feed.ReadAsync(Query(next), CancellationToken.None);
                seen.AddRange(Describe(read.Events));
                next = read.Result.NextRevision;
            }
            Assert.Equal(Describe(expected), seen);
        }
    }

    private RevisionFeed NewFeed(int ringRevisionsMax = RevisionFeed.RingRevisionsMax) =>
        new(_store.Revision, query =>
        {
            var events = new List<MvccEvent>();
            return Task.FromResult((_store.ReadEvents(query, events), events));
        }, ringRevisionsMax);

    private static EventQuery Query(long start, bool prevKv = false, int eventsMax = 1000) => new(start, null, null, prevKv, eventsMax);

    private void Put(string key, string value) =>
        Assert.True(_store.Put(new PutRequest { Key = Encoding.UTF8.GetBytes(key), Value = Encoding.UTF8.GetBytes(value) }).IsSuccess);

    private static List<string> Describe(IEnumerable<MvccEvent> events) =>
        events.Select(e => $"{(e.Type == EventType.Delete ? "-" : "")}{Encoding.UTF8.GetString(e.Kv.Key)}@{e.Kv.ModRevision}").ToList();
}
