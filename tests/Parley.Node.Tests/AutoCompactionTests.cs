using Parley.Mvcc;

namespace Parley.Node.Tests;

/// <summary>
/// The compactor (etcd's --auto-compaction-mode/--auto-compaction-retention) in the deterministic node: what it keeps,
/// that it goes on under a new leader, that only the leader proposes, and that it is off unless asked for. Time is
/// ticks (10 per second).
/// </summary>
public class AutoCompactionTests
{
    private const int RetentionTicks = 50;

    [Fact]
    public void Periodic_KeepsARetentionOfHistory_AndCompactsWhatIsOlder()
    {
        using var cluster = new NodeCluster(configure: Periodic(RetentionTicks));
        var leader = cluster.Leader();
        var proposedBy = new List<ulong>();
        foreach (var id in cluster.Live)
        {
            var member = id;
            cluster.Node(id).AutoCompactionStarting = _ => proposedBy.Add(member);
        }
        var written = new List<(long Tick, long Revision)> { (0, 1) }; // a store starts at revision 1
        var compactions = new SortedSet<long>();
        for (var i = 0; i < 300; i++)
        {
            cluster.Put(leader, "key" + (i % 7), lease: 0);
            written.Add((cluster.Now, cluster.Node(leader).Store.Revision));
            cluster.Tick();
            foreach (var id in cluster.Live)
            {
                var compacted = cluster.Node(id).Store.CompactRevision;
                compactions.Add(compacted);
                // Never newer than what had been written a retention ago.
                var keptFrom = written.Where(w => w.Tick <= cluster.Now - RetentionTicks).Select(w => w.Revision).DefaultIfEmpty(0).Max();
                Assert.True(compacted <= keptFrom, $"member {id} compacted to {compacted} at tick {cluster.Now}, but the revision a retention ago was {keptFrom}");
                // And not much older: a compaction at least every interval (the retention here), from samples a tenth of it apart.
                if (cluster.Now > 3 * RetentionTicks)
                {
                    var due = written.Where(w => w.Tick <= cluster.Now - 2 * RetentionTicks - RetentionTicks / 10 - 5).Max(w => w.Revision);
                    Assert.True(compacted >= due, $"member {id} compacted only to {compacted} at tick {cluster.Now}; {due} was due");
                }
            }
        }
        Assert.True(compactions.Count(revision => revision > 0) >= 3, $"compacted to {string.Join(", ", compactions)}");
        Assert.All(proposedBy, id => Assert.Equal(leader, id));
        var store = cluster.Node(leader).Store;
        var old = store.Range(new RangeRequest { Key = "key0"u8.ToArray(), Revision = store.CompactRevision - 1 });
        Assert.Equal(MvccError.Compacted, old.Error);
        var kept = store.Range(new RangeRequest { Key = "key0"u8.ToArray(), Revision = store.CompactRevision });
        Assert.True(kept.IsSuccess, kept.ErrorMessage);
    }

    [Fact]
    public void Periodic_GoesOnUnderANewLeader()
    {
        using var cluster = new NodeCluster(configure: Periodic(RetentionTicks));
        var first = cluster.Leader();
        for (var i = 0; i < 3 * RetentionTicks; i++)
        {
            cluster.Put(first, "k", lease: 0);
            cluster.Tick();
        }
        var compactedUnderFirst = cluster.Node(first).Store.CompactRevision;
        Assert.True(compactedUnderFirst > 0);
        cluster.Kill(first);
        var second = cluster.Leader();
        Assert.NotEqual(first, second);
        var revisionAtTakeOver = cluster.Node(second).Store.Revision;
        for (var i = 0; i < 3 * RetentionTicks; i++)
        {
            cluster.Put(second, "k", lease: 0);
            cluster.Tick();
        }
        // Compacted past everything written under the first leader: the new leader's own samples (it sampled as a
        // follower too) carried on.
        Assert.True(cluster.Node(second).Store.CompactRevision > revisionAtTakeOver,
            $"compacted to {cluster.Node(second).Store.CompactRevision}, revision was {revisionAtTakeOver} at the take-over");
    }

    [Fact]
    public void Revision_KeepsTheLastRetentionRevisions_EachInterval_AndDoesNotProposeWhatWouldDropNothing()
    {
        const int interval = 20;
        const int retention = 10;
        using var cluster = new NodeCluster(configure: options => options with
        {
            AutoCompactionMode = AutoCompactionMode.Revision,
            AutoCompactionRetention = retention,
            AutoCompactionRevisionIntervalTicks = interval,
        });
        var leader = cluster.Leader();
        var started = new List<long>();
        var finished = new List<(long Revision, string? Error)>();
        cluster.Node(leader).AutoCompactionStarting = started.Add;
        cluster.Node(leader).AutoCompactionFinished = (revision, error) => finished.Add((revision, error));
        for (var i = 0; i < 40; i++)
        {
            cluster.Put(leader, "k" + i, lease: 0);
        }
        cluster.Tick(interval + 1);
        var store = cluster.Node(leader).Store;
        Assert.Equal(store.Revision - retention, store.CompactRevision);
        Assert.Equal([store.Revision - retention], started);
        Assert.Equal([(store.Revision - retention, (string?)null)], finished);
        foreach (var id in cluster.Live)
        {
            Assert.Equal(store.CompactRevision, cluster.Node(id).Store.CompactRevision);
        }

        // Nothing written since: the same revision would be compacted again, so nothing is proposed.
        cluster.Tick(3 * interval);
        Assert.Single(started);

        // A client compacts further than the compactor would; the compactor waits until it has something to drop.
        var client = cluster.Write(leader, WriteCommand.Compaction(new CompactionRequest { Revision = store.Revision }));
        Assert.True(client.Outcome!.IsSuccess);
        for (var i = 0; i < 5; i++)
        {
            cluster.Put(leader, "again", lease: 0);
        }
        cluster.Tick(2 * interval);
        Assert.Single(started);
        for (var i = 0; i < 2 * retention; i++)
        {
            cluster.Put(leader, "again", lease: 0);
        }
        cluster.Tick(interval + 1);
        Assert.Equal(2, started.Count);
        Assert.Equal(store.Revision - retention, cluster.Node(leader).Store.CompactRevision);
    }

    [Fact]
    public void Off_KeepsAllHistory()
    {
        using var cluster = new NodeCluster(configure: options => options with { AutoCompactionRetention = 1, AutoCompactionRevisionIntervalTicks = 1 });
        var leader = cluster.Leader();
        for (var i = 0; i < 100; i++)
        {
            cluster.Put(leader, "k", lease: 0);
            cluster.Tick();
        }
        Assert.All(cluster.Live, id => Assert.Equal(-1, cluster.Node(id).Store.CompactRevision));
    }

    private static Func<NodeOptions, NodeOptions> Periodic(long retentionTicks) => options => options with
    {
        AutoCompactionMode = AutoCompactionMode.Periodic,
        AutoCompactionRetention = retentionTicks,
    };
}
