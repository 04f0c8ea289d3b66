using static Parley.Mvcc.Tests.Kit;

namespace Parley.Mvcc.Tests;

public class SnapshotTests
{
    private static MvccStore Busy()
    {
        var store = new MvccStore();
        store.Grant(5);
        store.Grant(9);
        string[] keys = ["a", "b", "c", "d", "e", "f"];
        Ok(store.Txn(new TxnRequest { Success = keys.Select(key => PutOp(key, "v" + key, key == "c" ? 5 : 0)).ToArray() }));
        store.Put("a", "again");
        store.Delete("b");
        Ok(store.Compact(new CompactionRequest { Revision = 3 }));
        store.Apply(WriteCommand.Put(new PutRequest { Key = B("r"), Value = B("1"), PrevKv = true }, "req-1", 10));
        return store;
    }

    [Fact]
    public void EqualState_GivesIdenticalBytes() => Assert.Equal(Busy().Snapshot(), Busy().Snapshot());

    [Fact]
    public void DifferentState_GivesDifferentBytes()
    {
        MvccStore other = Busy();
        other.Put("z", "1");
        Assert.NotEqual(Busy().Snapshot(), other.Snapshot());
    }

    [Fact]
    public void Restore_ReproducesStateAndBytes()
    {
        MvccStore original = Busy();
        byte[] bytes = original.Snapshot();
        MvccStore restored = Ok(MvccStore.Restore(bytes));
        Assert.Equal(bytes, restored.Snapshot());
        Assert.Equal(original.Revision, restored.Revision);
        Assert.Equal(original.CompactRevision, restored.CompactRevision);
        Assert.Equal(original.KeyCount, restored.KeyCount);
        Assert.Equal(original.EstimatedStoredBytes, restored.EstimatedStoredBytes);
        Assert.Equal(Ok(original.HashKV(0)).Hash, Ok(restored.HashKV(0)).Hash);
        Assert.Equal(Keys(original.Range("a", "z")), Keys(restored.Range("a", "z")));
        Assert.Equal("vb", S(restored.Get("b", 3)!.Value));
        Assert.Equal(["c"], Ok(restored.Lease(5)).Keys.Select(S).ToArray());
        Assert.Equal(original.LeaseIds(), restored.LeaseIds());
        Assert.Equal(original.Events(3, prevKv: true).Select(e => e.ToString()), restored.Events(3, prevKv: true).Select(e => e.ToString()));
    }

    [Fact]
    public void LongAndShortHistories_RestoreExactly_AndGrowAfterwards()
    {
        // Restored records get their version arrays sized from the snapshot's counts (at most 1,024 at once): one key
        // past that, others with 1 to 3 versions and a tombstone, then more versions on top of what was restored.
        var original = new MvccStore();
        for (int i = 0; i < KeyRecord.PresizedVersionsMax + 500; i++)
        {
            original.Put("long", "v" + i);
        }
        original.Put("one", "1");
        original.Put("two", "1");
        original.Put("two", "2");
        original.Put("gone", "1");
        original.Delete("gone");
        byte[] bytes = original.Snapshot();
        MvccStore restored = Ok(MvccStore.Restore(bytes));
        Assert.Equal(bytes, restored.Snapshot());
        Assert.Equal("v0", S(restored.Get("long", 2)!.Value)); // the first put is revision 2
        Assert.Equal("v1000", S(restored.Get("long", 1002)!.Value));
        Assert.Equal(Ok(original.HashKV(0)).Hash, Ok(restored.HashKV(0)).Hash);
        foreach (MvccStore store in new[] { original, restored })
        {
            foreach (string key in new[] { "long", "one", "two", "gone" })
            {
                store.Put(key, "after");
                store.Put(key, "after again");
            }
        }
        Assert.Equal(original.Snapshot(), restored.Snapshot());
        Assert.Equal("after again", S(restored.Get("one")!.Value));
        Assert.Equal(Ok(original.HashKV(0)).Hash, Ok(restored.HashKV(0)).Hash);
    }

    [Fact]
    public void Restore_KeepsRecordedRequests()
    {
        MvccStore restored = Ok(MvccStore.Restore(Busy().Snapshot()));
        WriteOutcome replay = restored.Apply(WriteCommand.Put(new PutRequest { Key = B("r"), Value = B("2") }, "req-1", 11));
        Assert.True(replay.IsReplay);
        Assert.Equal("1", S(restored.Get("r")!.Value));
    }

    [Fact]
    public void Restore_ContinuesLeaseIdSequence()
    {
        MvccStore original = Busy();
        MvccStore restored = Ok(MvccStore.Restore(original.Snapshot()));
        Assert.Equal(original.Grant(0), restored.Grant(0));
    }

    [Fact]
    public void RestoredStore_RevokesLeaseKeys()
    {
        MvccStore restored = Ok(MvccStore.Restore(Busy().Snapshot()));
        Ok(restored.LeaseRevoke(new LeaseRevokeRequest { ID = 5 }));
        Assert.Null(restored.Get("c"));
    }

    [Fact]
    public void EmptyStore_RoundTrips()
    {
        byte[] bytes = new MvccStore().Snapshot();
        MvccStore restored = Ok(MvccStore.Restore(bytes));
        Assert.Equal(1, restored.Revision);
        Assert.Equal(-1, restored.CompactRevision);
        Assert.Equal(bytes, restored.Snapshot());
    }

    [Fact]
    public void FlippedByte_IsSnapshotCorrupt()
    {
        byte[] bytes = Busy().Snapshot();
        for (int index = 0; index < bytes.Length; index += 7)
        {
            byte[] damaged = (byte[])bytes.Clone();
            damaged[index] ^= 0x10;
            MvccResult<MvccStore> result = MvccStore.Restore(damaged);
            Assert.Equal(MvccError.SnapshotCorrupt, result.Error);
        }
    }

    [Fact]
    public void Truncated_IsSnapshotCorrupt()
    {
        byte[] bytes = Busy().Snapshot();
        Assert.Equal(MvccError.SnapshotCorrupt, MvccStore.Restore(bytes.AsSpan(0, bytes.Length - 1)).Error);
        Assert.Equal(MvccError.SnapshotCorrupt, MvccStore.Restore([]).Error);
    }

    [Fact]
    public void EstimatedStoredBytes_GrowsWithWrites()
    {
        var store = new MvccStore();
        long empty = store.EstimatedStoredBytes;
        store.Put("key", new string('v', 1000));
        Assert.Equal(empty + 3 + 1000 + MvccStore.VersionOverheadBytes, store.EstimatedStoredBytes);
        store.Delete("key");
        Assert.True(store.EstimatedStoredBytes > empty + 1000);
    }
}
