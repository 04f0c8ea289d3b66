using static Parley.Mvcc.Tests.Kit;

namespace Parley.Mvcc.Tests;

public class EffectivelyOnceTests
{
    private static WriteCommand PutCommand(string key, string value, string? id, long time) =>
        WriteCommand.Put(new PutRequest { Key = B(key), Value = B(value) }, id, time);

    [Fact]
    public void RetryWithSameId_ReturnsRecordedResultWithoutApplying()
    {
        var store = new MvccStore();
        WriteOutcome first = store.Apply(PutCommand("a", "1", "id-1", 1));
        WriteOutcome retry = store.Apply(PutCommand("a", "1", "id-1", 2));
        Assert.False(first.IsReplay);
        Assert.True(retry.IsReplay);
        Assert.Same(first.Response, retry.Response);
        Assert.Equal(2, store.Revision);
        Assert.Equal(1, store.Get("a")!.Version);
    }

    [Fact]
    public void WithoutId_EveryApplicationApplies()
    {
        var store = new MvccStore();
        store.Apply(PutCommand("a", "1", null, 1));
        store.Apply(PutCommand("a", "1", null, 1));
        Assert.Equal(3, store.Revision);
    }

    [Fact]
    public void DifferentIds_BothApply()
    {
        var store = new MvccStore();
        store.Apply(PutCommand("a", "1", "id-1", 1));
        store.Apply(PutCommand("a", "1", "id-2", 1));
        Assert.Equal(3, store.Revision);
    }

    [Fact]
    public void RecordedErrors_AreReplayedToo()
    {
        var store = new MvccStore();
        WriteCommand grant = WriteCommand.LeaseGrant(new LeaseGrantRequest { ID = 0, TTL = 10_000_000_000 }, "g", 1);
        Assert.Equal(MvccErrors.LeaseTtlTooLargeMessage, store.Apply(grant).ErrorMessage);
        WriteOutcome retry = store.Apply(grant);
        Assert.True(retry.IsReplay);
        Assert.Equal(MvccError.LeaseTtlTooLarge, retry.Error);
    }

    [Fact]
    public void RetriedTxn_DoesNotRunTwice()
    {
        var store = new MvccStore();
        var txn = new TxnRequest { Compare = [new Compare { Key = B("n"), Target = CompareTarget.Version, Version = 0 }], Success = [PutOp("n", "1")], Failure = [PutOp("other", "x")] };
        WriteOutcome first = store.Apply(WriteCommand.Txn(txn, "t", 1));
        WriteOutcome retry = store.Apply(WriteCommand.Txn(txn, "t", 1));
        Assert.True(((TxnResponse)retry.Response!).Succeeded);
        Assert.Null(store.Get("other"));
        Assert.Same(first.Response, retry.Response);
    }

    [Fact]
    public void RecordedId_ExpiresAfterRetention()
    {
        var store = new MvccStore(new MvccOptions { RecordedRequestRetention = 10 });
        store.Apply(PutCommand("a", "1", "id-1", 100));
        Assert.True(store.Apply(PutCommand("a", "1", "id-1", 109)).IsReplay);
        Assert.False(store.Apply(PutCommand("a", "1", "id-1", 110)).IsReplay);
        Assert.Equal(3, store.Revision);
    }

    [Fact]
    public void Table_IsBoundedByCount_EvictingOldest()
    {
        var store = new MvccStore(new MvccOptions { RecordedRequestsMax = 2 });
        store.Apply(PutCommand("a", "1", "id-1", 1));
        store.Apply(PutCommand("b", "1", "id-2", 1));
        store.Apply(PutCommand("c", "1", "id-3", 1));
        Assert.Equal(2, store.RecordedRequestCount);
        Assert.True(store.Apply(PutCommand("c", "1", "id-3", 1)).IsReplay);
        Assert.False(store.Apply(PutCommand("a", "1", "id-1", 1)).IsReplay);
    }

    [Fact]
    public void EveryCommandKind_AppliesThroughApply()
    {
        var store = new MvccStore();
        Assert.True(store.Apply(WriteCommand.LeaseGrant(new LeaseGrantRequest { ID = 3, TTL = 5 })).IsSuccess);
        Assert.True(store.Apply(WriteCommand.Put(new PutRequest { Key = B("a"), Lease = 3 })).IsSuccess);
        Assert.True(store.Apply(WriteCommand.DeleteRange(new DeleteRangeRequest { Key = B("zz") })).IsSuccess);
        Assert.True(store.Apply(WriteCommand.Txn(new TxnRequest())).IsSuccess);
        Assert.True(store.Apply(WriteCommand.Compaction(new CompactionRequest { Revision = 2 })).IsSuccess);
        Assert.True(store.Apply(WriteCommand.LeaseRevoke(new LeaseRevokeRequest { ID = 3 })).IsSuccess);
        Assert.Null(store.Get("a"));
    }
}
