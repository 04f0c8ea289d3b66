using static Parley.Mvcc.Tests.Kit;

namespace Parley.Mvcc.Tests;

public class CompactionTests
{
    private static MvccResult<CompactionResponse> Compact(MvccStore store, long revision) =>
        store.Compact(new CompactionRequest { Revision = revision });

    [Fact]
    public void Compact_KeepsLatestVersionOfLiveKeys()
    {
        var store = new MvccStore();
        store.Put("a", "1"); // 2
        store.Put("b", "1"); // 3
        store.Put("a", "2"); // 4
        CompactionResponse response = Ok(Compact(store, 4));
        Assert.Equal(4, response.Header.Revision);
        Assert.Equal(4, store.CompactRevision);
        Assert.Equal("2", S(store.Get("a")!.Value));
        Assert.Equal("1", S(store.Get("b", 4)!.Value));
        Assert.Equal(2, store.Get("a")!.CreateRevision);
        Assert.Equal(2, store.Get("a")!.Version);
    }

    [Fact]
    public void Compact_DoesNotChangeRevision()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        Ok(Compact(store, 2));
        Assert.Equal(2, store.Revision);
    }

    [Fact]
    public void CompactAtOrBelowCompactRevision_IsCompacted()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("a", "2");
        Ok(Compact(store, 2));
        MvccResult<CompactionResponse> again = Compact(store, 2);
        Fails(again, "etcdserver: mvcc: required revision has been compacted");
        Assert.Equal(MvccStatusCode.OutOfRange, again.StatusCode);
        Fails(Compact(store, 1), MvccErrors.CompactedMessage);
    }

    [Fact]
    public void CompactAboveCurrentRevision_IsFuture() =>
        Fails(Compact(new MvccStore(), 2), "etcdserver: mvcc: required revision is a future revision");

    [Fact]
    public void FreshStore_CompactsAtZeroAndOne_LikeEtcd()
    {
        var store = new MvccStore();
        Assert.Equal(-1, store.CompactRevision);
        Ok(Compact(store, 0));
        Assert.Equal(0, store.CompactRevision);
        Ok(Compact(store, 1));
    }

    [Fact]
    public void DeletedKeys_VanishAfterCompactionAtOrAfterTheirDelete()
    {
        var store = new MvccStore();
        store.Put("a", "1"); // 2
        store.Delete("a"); // 3
        store.Put("b", "1"); // 4
        Ok(Compact(store, 4));
        Assert.Null(store.Get("a", 4));
        Assert.Equal("b", Keys(Ok(store.Range(new RangeRequest { Key = [0], RangeEnd = [0], Revision = 4 }))));
        store.Put("a", "again");
        Assert.Equal(1, store.Get("a")!.Version);
    }

    [Fact]
    public void CompactionBeforeDelete_KeepsValueReadableUntilDelete()
    {
        var store = new MvccStore();
        store.Put("a", "1"); // 2
        store.Put("x", "x"); // 3
        store.Delete("a"); // 4
        Ok(Compact(store, 3));
        Assert.Equal("1", S(store.Get("a", 3)!.Value));
        Assert.Null(store.Get("a", 4));
    }

    [Fact]
    public void Compaction_ReleasesEstimatedBytes()
    {
        var store = new MvccStore();
        for (int index = 0; index < 10; index++)
        {
            store.Put("a", new string('v', 100));
        }
        long before = store.EstimatedStoredBytes;
        Ok(Compact(store, store.Revision));
        Assert.Equal(before - (9 * (1 + 100 + MvccStore.VersionOverheadBytes)), store.EstimatedStoredBytes);
    }

    [Fact]
    public void CompactionRemovingManyKeys_LeavesIndexUsable()
    {
        var store = new MvccStore();
        for (int index = 0; index < 3000; index++)
        {
            store.Put("k" + index.ToString("D4", System.Globalization.CultureInfo.InvariantCulture), "v");
        }
        store.Delete("k0000", "k2000");
        Ok(Compact(store, store.Revision));
        Assert.Equal(1000, Ok(store.Range(new RangeRequest { Key = [0], RangeEnd = [0] })).Count);
        store.Put("k0500", "new");
        store.Put("k9999", "new");
        Assert.Equal(1002, Ok(store.Range(new RangeRequest { Key = [0], RangeEnd = [0] })).Kvs.Count);
    }

    [Fact]
    public void CompactionInsideALongHistory_KeepsLaterVersionsReadable_AndSnapshotsEqual()
    {
        // Exercises the record layout (newest version inline, older ones in an array) across growth,
        // a partial compaction, a delete, a new generation, and a restore.
        var store = new MvccStore();
        for (int version = 1; version <= 6; version++)
        {
            store.Put("k", "v" + version); // revisions 2..7
        }
        Ok(Compact(store, 4));
        Fails(store.Range(new RangeRequest { Key = B("k"), Revision = 3 }), "etcdserver: mvcc: required revision has been compacted");
        for (long revision = 4; revision <= 7; revision++)
        {
            KeyValue kv = store.Get("k", revision)!;
            Assert.Equal("v" + (revision - 1), S(kv.Value));
            Assert.Equal(revision - 1, kv.Version);
            Assert.Equal(2, kv.CreateRevision);
        }
        store.Delete("k"); // 8
        store.Put("k", "again"); // 9
        Assert.Null(store.Get("k", 8));
        Assert.Equal(1, store.Get("k")!.Version);
        MvccStore restored = Ok(MvccStore.Restore(store.Snapshot()));
        Assert.Equal(store.Snapshot(), restored.Snapshot());
        Assert.Equal("v6", S(restored.Get("k", 7)!.Value));
        Ok(Compact(restored, 8));
        Assert.Equal("again", S(restored.Get("k")!.Value));
        Assert.Null(restored.Get("k", 8));
    }
}
