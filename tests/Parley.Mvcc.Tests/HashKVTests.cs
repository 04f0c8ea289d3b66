using static Parley.Mvcc.Tests.Kit;

namespace Parley.Mvcc.Tests;

public class HashKVTests
{
    private static MvccStore Build(string lastValue)
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("b", "2");
        store.Put("a", lastValue);
        return store;
    }

    [Fact]
    public void EqualHistories_HaveEqualHashes() =>
        Assert.Equal(Ok(Build("3").HashKV(0)).Hash, Ok(Build("3").HashKV(0)).Hash);

    [Fact]
    public void DifferentValues_HaveDifferentHashes() =>
        Assert.NotEqual(Ok(Build("3").HashKV(0)).Hash, Ok(Build("4").HashKV(0)).Hash);

    [Fact]
    public void HashAtPastRevision_IgnoresLaterWrites()
    {
        MvccStore longer = Build("3");
        longer.Put("c", "later");
        Assert.Equal(Ok(Build("3").HashKV(4)).Hash, Ok(longer.HashKV(4)).Hash);
        Assert.NotEqual(Ok(Build("3").HashKV(0)).Hash, Ok(longer.HashKV(0)).Hash);
    }

    [Fact]
    public void NeverCompacted_ReportsCompactRevisionMinusOne()
    {
        HashKVResponse response = Ok(Build("3").HashKV(0));
        Assert.Equal(-1, response.CompactRevision);
        Assert.Equal(4, response.Header.Revision);
    }

    [Fact]
    public void HashAtOrBelowCompactRevision_IsCompacted()
    {
        MvccStore store = Build("3");
        Ok(store.Compact(new CompactionRequest { Revision = 3 }));
        Fails(store.HashKV(3), "etcdserver: mvcc: required revision has been compacted");
        Assert.Equal(3, Ok(store.HashKV(4)).CompactRevision);
    }

    [Fact]
    public void HashAboveCurrentRevision_IsFuture() =>
        Fails(Build("3").HashKV(5), "etcdserver: mvcc: required revision is a future revision");
}
