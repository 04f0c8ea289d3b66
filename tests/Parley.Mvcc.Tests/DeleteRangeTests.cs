using static Parley.Mvcc.Tests.Kit;

namespace Parley.Mvcc.Tests;

public class DeleteRangeTests
{
    [Fact]
    public void EmptyKey_IsRejected() =>
        Fails(new MvccStore().DeleteRange(new DeleteRangeRequest()), "etcdserver: key is not provided");

    [Fact]
    public void DeletesEveryKeyInRange_AtOneRevision()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("b", "2");
        store.Put("c", "3");
        DeleteRangeResponse response = store.Delete("a", "c");
        Assert.Equal(2, response.Deleted);
        Assert.Equal(5, response.Header.Revision);
        Assert.Equal(5, store.Revision);
        Assert.Equal("c", Keys(store.Range("a", "z")));
    }

    [Fact]
    public void PrevKv_ListsDeletedPairs()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("b", "2");
        DeleteRangeResponse response = store.Delete("a", "z", prevKv: true);
        Assert.Equal(["1", "2"], response.PrevKvs.Select(kv => S(kv.Value)).ToArray());
    }

    [Fact]
    public void FromKeyRangeEnd_DeletesEveryKeyFromKey()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("b", "2");
        store.Put("c", "3");
        DeleteRangeResponse response = Ok(store.DeleteRange(new DeleteRangeRequest { Key = B("b"), RangeEnd = [0] }));
        Assert.Equal(2, response.Deleted);
        Assert.Equal("a", Keys(store.Range("a", "z")));
    }

    [Fact]
    public void DeletedKey_StaysReadableAtPastRevision()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Delete("a");
        Assert.Equal("1", S(store.Get("a", 2)!.Value));
        Assert.Equal(0, store.KeyCount);
    }

    [Fact]
    public void DeletingDeletedKey_IsNoOp()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Delete("a");
        Assert.Equal(0, store.Delete("a").Deleted);
        Assert.Equal(3, store.Revision);
    }

    [Fact]
    public void Delete_DetachesKeyFromLease()
    {
        var store = new MvccStore();
        store.Grant(5);
        store.Put("a", "1", 5);
        store.Delete("a");
        Assert.Empty(Ok(store.Lease(5)).Keys);
    }
}
