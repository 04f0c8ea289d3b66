using static Parley.Mvcc.Tests.Kit;

namespace Parley.Mvcc.Tests;

public class PutTests
{
    [Fact]
    public void EmptyKey_IsRejected() =>
        Fails(new MvccStore().Put(new PutRequest { Value = B("v") }), "etcdserver: key is not provided");

    [Fact]
    public void PrevKv_ReturnsPreviousValue_AbsentForNewKey()
    {
        var store = new MvccStore();
        Assert.Null(store.Put("a", "1", prevKv: true).PrevKv);
        KeyValue previous = store.Put("a", "2", prevKv: true).PrevKv!;
        Assert.Equal("1", S(previous.Value));
        Assert.Equal(2, previous.ModRevision);
    }

    [Fact]
    public void PrevKv_NotAskedFor_IsAbsent()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        Assert.Null(store.Put("a", "2").PrevKv);
    }

    [Fact]
    public void IgnoreValue_KeepsValue_BumpsRevisionAndVersion()
    {
        var store = new MvccStore();
        store.Put("a", "keep");
        Ok(store.Put(new PutRequest { Key = B("a"), IgnoreValue = true }));
        KeyValue kv = store.Get("a")!;
        Assert.Equal("keep", S(kv.Value));
        Assert.Equal(2, kv.Version);
        Assert.Equal(3, kv.ModRevision);
    }

    [Fact]
    public void IgnoreValue_WithValue_IsRejected() =>
        Fails(new MvccStore().Put(new PutRequest { Key = B("a"), Value = B("x"), IgnoreValue = true }), "etcdserver: value is provided");

    [Fact]
    public void IgnoreValue_OnMissingKey_IsKeyNotFound() =>
        Fails(new MvccStore().Put(new PutRequest { Key = B("a"), IgnoreValue = true }), "etcdserver: key not found");

    [Fact]
    public void IgnoreValue_OnDeletedKey_IsKeyNotFound()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Delete("a");
        Fails(store.Put(new PutRequest { Key = B("a"), IgnoreValue = true }), "etcdserver: key not found");
    }

    [Fact]
    public void IgnoreLease_KeepsLease()
    {
        var store = new MvccStore();
        long lease = store.Grant(5);
        store.Put("a", "1", lease);
        Ok(store.Put(new PutRequest { Key = B("a"), Value = B("2"), IgnoreLease = true }));
        KeyValue kv = store.Get("a")!;
        Assert.Equal(5, kv.Lease);
        Assert.Equal("2", S(kv.Value));
        Assert.Equal([B("a")], Ok(store.Lease(5)).Keys);
    }

    [Fact]
    public void IgnoreLease_WithLease_IsRejected() =>
        Fails(new MvccStore().Put(new PutRequest { Key = B("a"), Lease = 5, IgnoreLease = true }), "etcdserver: lease is provided");

    [Fact]
    public void IgnoreLease_OnMissingKey_IsKeyNotFound() =>
        Fails(new MvccStore().Put(new PutRequest { Key = B("a"), IgnoreLease = true }), "etcdserver: key not found");

    [Fact]
    public void UnknownLease_IsLeaseNotFound_WithNotFoundCode()
    {
        MvccResult<PutResponse> result = new MvccStore().Put(new PutRequest { Key = B("a"), Lease = 42 });
        Fails(result, "etcdserver: requested lease not found");
        Assert.Equal(MvccStatusCode.NotFound, result.StatusCode);
    }

    [Fact]
    public void UnknownLease_IsCheckedBeforeMissingKey()
    {
        // etcd's standalone Put looks the lease up before it reads the key for ignore_value.
        Fails(new MvccStore().Put(new PutRequest { Key = B("a"), Lease = 42, IgnoreValue = true }), "etcdserver: requested lease not found");
    }

    [Fact]
    public void EmptyValue_IsAValue()
    {
        var store = new MvccStore();
        store.Put("a", "");
        KeyValue kv = store.Get("a")!;
        Assert.Empty(kv.Value);
        Assert.Equal(1, kv.Version);
    }

    [Fact]
    public void PutWithoutLease_DetachesKeyFromItsLease()
    {
        var store = new MvccStore();
        store.Grant(5);
        store.Put("a", "1", 5);
        store.Put("a", "2");
        Assert.Empty(Ok(store.Lease(5)).Keys);
        Assert.Equal(0, store.Get("a")!.Lease);
    }

    [Fact]
    public void PutWithNewLease_MovesKeyBetweenLeases()
    {
        var store = new MvccStore();
        store.Grant(5);
        store.Grant(6);
        store.Put("a", "1", 5);
        store.Put("a", "2", 6);
        Assert.Empty(Ok(store.Lease(5)).Keys);
        Assert.Single(Ok(store.Lease(6)).Keys);
    }

    [Fact]
    public void AppliedPutOfExistingKey_AllocatesOnlyItsOutcomeAndResponse()
    {
        var store = new MvccStore();
        for (int index = 0; index < 1000; index++)
        {
            store.Put("key" + index.ToString("D4", System.Globalization.CultureInfo.InvariantCulture), "value");
        }
        for (int version = 0; version < 3; version++)
        {
            store.Put("key0500", "value"); // 4 versions: the next fits the key's history array without growing it
        }
        WriteCommand command = WriteCommand.Put(new PutRequest { Key = B("key0500"), Value = B("new") });
        Assert.True(store.Apply(WriteCommand.Put(new PutRequest { Key = B("key0700"), Value = B("warm-up") })).IsSuccess);
        long before = GC.GetAllocatedBytesForCurrentThread();
        WriteOutcome outcome = store.Apply(command);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(outcome.IsSuccess);
        // The WriteOutcome (40 B) and its PutResponse (32 B); the version, the change-log entry and the index
        // lookup allocate nothing here.
        Assert.True(allocated <= 72, $"allocated {allocated} bytes");
    }
}
