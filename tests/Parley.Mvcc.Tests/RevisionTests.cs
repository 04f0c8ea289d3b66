using static Parley.Mvcc.Tests.Kit;

namespace Parley.Mvcc.Tests;

public class RevisionTests
{
    [Fact]
    public void EmptyStore_IsAtRevisionOne()
    {
        var store = new MvccStore();
        Assert.Equal(1, store.Revision);
        Assert.Equal(1, Ok(store.Range(new RangeRequest { Key = B("a") })).Header.Revision);
    }

    [Fact]
    public void FirstWrite_ProducesRevisionTwo()
    {
        var store = new MvccStore();
        PutResponse response = store.Put("a", "1");
        Assert.Equal(2, response.Header.Revision);
        Assert.Equal(2, store.Revision);
    }

    [Fact]
    public void Put_OnUnchangedValue_StillBumpsRevision()
    {
        var store = new MvccStore();
        store.Put("a", "same");
        store.Put("a", "same");
        Assert.Equal(3, store.Revision);
        KeyValue kv = store.Get("a")!;
        Assert.Equal(2, kv.Version);
        Assert.Equal(3, kv.ModRevision);
    }

    [Fact]
    public void NewKey_HasCreateEqualModAndVersionOne()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        KeyValue kv = store.Get("a")!;
        Assert.Equal(2, kv.CreateRevision);
        Assert.Equal(2, kv.ModRevision);
        Assert.Equal(1, kv.Version);
        Assert.Equal(0, kv.Lease);
    }

    [Fact]
    public void Update_KeepsCreateRevision_BumpsModAndVersion()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("b", "x");
        store.Put("a", "2");
        KeyValue kv = store.Get("a")!;
        Assert.Equal(2, kv.CreateRevision);
        Assert.Equal(4, kv.ModRevision);
        Assert.Equal(2, kv.Version);
        Assert.Equal("2", S(kv.Value));
    }

    [Fact]
    public void Delete_ThenRecreate_StartsNewGeneration()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("a", "2");
        store.Delete("a");
        Assert.Null(store.Get("a"));
        store.Put("a", "3");
        KeyValue kv = store.Get("a")!;
        Assert.Equal(5, kv.CreateRevision);
        Assert.Equal(5, kv.ModRevision);
        Assert.Equal(1, kv.Version);
    }

    [Fact]
    public void DeleteOfMissingKey_DoesNotBumpRevision()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        DeleteRangeResponse response = store.Delete("zzz");
        Assert.Equal(0, response.Deleted);
        Assert.Equal(2, response.Header.Revision);
        Assert.Equal(2, store.Revision);
    }

    [Fact]
    public void ReadOnlyTxn_DoesNotBumpRevision()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        TxnResponse response = Ok(store.Txn(new TxnRequest { Success = [GetOp("a")] }));
        Assert.Equal(2, response.Header.Revision);
        Assert.Equal(2, store.Revision);
    }

    [Fact]
    public void Txn_WithSeveralWrites_SharesOneRevision()
    {
        var store = new MvccStore();
        store.Put("c", "0");
        TxnResponse response = Ok(store.Txn(new TxnRequest { Success = [PutOp("a", "1"), PutOp("b", "2"), DeleteOp("c")] }));
        Assert.Equal(3, response.Header.Revision);
        Assert.Equal(3, store.Revision);
        Assert.Equal(3, store.Get("a")!.ModRevision);
        Assert.Equal(3, store.Get("b")!.ModRevision);
        Assert.Null(store.Get("c"));
    }

    [Fact]
    public void TxnWhoseDeletesFindNothing_DoesNotBumpRevision()
    {
        var store = new MvccStore();
        TxnResponse response = Ok(store.Txn(new TxnRequest { Success = [DeleteOp("nothing")] }));
        Assert.Equal(1, response.Header.Revision);
        Assert.Equal(1, store.Revision);
    }

    [Fact]
    public void FailedRequest_DoesNotBumpRevision()
    {
        var store = new MvccStore();
        Fails(store.Put(new PutRequest { Key = B("a"), Lease = 99 }), MvccErrors.LeaseNotFoundMessage);
        Assert.Equal(1, store.Revision);
    }
}
