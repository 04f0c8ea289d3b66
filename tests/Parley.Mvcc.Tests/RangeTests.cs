using static Parley.Mvcc.Tests.Kit;

namespace Parley.Mvcc.Tests;

public class RangeTests
{
    private static MvccStore Abcde()
    {
        var store = new MvccStore();
        foreach (string key in new[] { "a", "b", "c", "d", "e" })
        {
            store.Put(key, "v" + key);
        }
        return store;
    }

    [Fact]
    public void EmptyRangeEnd_ReadsOneKey() => Assert.Equal("b", Keys(Abcde().Range("b", "")));

    [Fact]
    public void RangeEnd_IsExclusive() => Assert.Equal("b,c", Keys(Abcde().Range("b", "d")));

    [Fact]
    public void ZeroByteRangeEnd_ReadsEveryKeyFromKey()
    {
        RangeResponse response = Ok(Abcde().Range(new RangeRequest { Key = B("c"), RangeEnd = [0] }));
        Assert.Equal("c,d,e", Keys(response));
    }

    [Fact]
    public void ZeroKeyAndZeroRangeEnd_ReadsWholeKeyspace()
    {
        RangeResponse response = Ok(Abcde().Range(new RangeRequest { Key = [0], RangeEnd = [0] }));
        Assert.Equal("a,b,c,d,e", Keys(response));
    }

    [Fact]
    public void PrefixEnd_IncrementsLastByteBelowFF()
    {
        Assert.Equal(B("b"), KeyBytes.PrefixEnd(B("a")));
        Assert.Equal(new byte[] { (byte)'b' }, KeyBytes.PrefixEnd(new byte[] { (byte)'a', 0xFF }));
        Assert.Equal(new byte[] { 0 }, KeyBytes.PrefixEnd(new byte[] { 0xFF, 0xFF }));
    }

    [Fact]
    public void PrefixRange_ReadsKeysWithPrefix()
    {
        var store = new MvccStore();
        store.Put("foo", "1");
        store.Put("foo/a", "2");
        store.Put("fop", "3");
        store.Put("fo", "4");
        RangeResponse response = Ok(store.Range(new RangeRequest { Key = B("foo"), RangeEnd = KeyBytes.PrefixEnd(B("foo")) }));
        Assert.Equal("foo,foo/a", Keys(response));
    }

    [Fact]
    public void RangeEndNotAfterKey_IsEmptyWithoutError()
    {
        RangeResponse response = Abcde().Range("d", "b");
        Assert.Empty(response.Kvs);
        Assert.Equal(0, response.Count);
    }

    [Fact]
    public void EmptyKey_IsRejected() => Fails(new MvccStore().Range(new RangeRequest()), "etcdserver: key is not provided");

    [Fact]
    public void Keys_AreOrderedByBytesNotText()
    {
        var store = new MvccStore();
        store.Put("\u00e9", "accented"); // 0xC3 0xA9 sorts after every ASCII byte
        store.Put("z", "z");
        store.Put("Z", "Z");
        RangeResponse response = Ok(store.Range(new RangeRequest { Key = [0], RangeEnd = [0] }));
        Assert.Equal("Z,z,\u00e9", Keys(response));
    }

    [Fact]
    public void Limit_TruncatesAndSetsMore_CountIgnoresLimit()
    {
        RangeResponse response = Ok(Abcde().Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), Limit = 2 }));
        Assert.Equal("a,b", Keys(response));
        Assert.True(response.More);
        Assert.Equal(5, response.Count);
    }

    [Fact]
    public void LimitEqualToResult_HasNoMore()
    {
        RangeResponse response = Ok(Abcde().Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), Limit = 5 }));
        Assert.False(response.More);
        Assert.Equal(5, response.Kvs.Count);
    }

    [Fact]
    public void CountOnly_ReturnsCountWithoutKvs()
    {
        RangeResponse response = Ok(Abcde().Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), CountOnly = true }));
        Assert.Empty(response.Kvs);
        Assert.Equal(5, response.Count);
        Assert.False(response.More);
    }

    [Fact]
    public void KeysOnly_OmitsValuesKeepsOtherFields()
    {
        RangeResponse response = Ok(Abcde().Range(new RangeRequest { Key = B("c"), KeysOnly = true }));
        KeyValue kv = Assert.Single(response.Kvs);
        Assert.Empty(kv.Value);
        Assert.Equal(4, kv.ModRevision);
        Assert.Equal(1, kv.Version);
    }

    [Fact]
    public void SortTargetWithoutOrder_SortsAscendingByTarget()
    {
        var store = new MvccStore();
        store.Put("b", "1");
        store.Put("a", "2");
        store.Put("c", "3");
        store.Put("b", "4");
        RangeResponse response = Ok(store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), SortTarget = SortTarget.Mod }));
        Assert.Equal("a,c,b", Keys(response));
    }

    [Theory]
    [InlineData(SortTarget.Key, SortOrder.Descend, "c,b,a")]
    [InlineData(SortTarget.Create, SortOrder.Ascend, "b,a,c")]
    [InlineData(SortTarget.Create, SortOrder.Descend, "c,a,b")]
    [InlineData(SortTarget.Mod, SortOrder.Descend, "b,c,a")]
    [InlineData(SortTarget.Version, SortOrder.Descend, "b,a,c")]
    [InlineData(SortTarget.Value, SortOrder.Ascend, "c,a,b")]
    [InlineData(SortTarget.Value, SortOrder.Descend, "b,a,c")]
    public void Sort_OrdersByTargetAndDirection(SortTarget target, SortOrder order, string expected)
    {
        var store = new MvccStore();
        store.Put("b", "m");
        store.Put("a", "k");
        store.Put("c", "a");
        store.Put("b", "z");
        RangeResponse response = Ok(store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), SortTarget = target, SortOrder = order }));
        Assert.Equal(expected, Keys(response));
    }

    [Fact]
    public void SortWithLimit_SortsEverythingThenLimits()
    {
        var store = new MvccStore();
        store.Put("c", "1");
        store.Put("b", "1");
        store.Put("a", "1");
        RangeResponse response = Ok(store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), SortTarget = SortTarget.Create, SortOrder = SortOrder.Ascend, Limit = 1 }));
        Assert.Equal("c", Keys(response));
        Assert.True(response.More);
    }

    [Fact]
    public void SortTargetWithoutOrder_AndLimit_SortsOnlyTheFirstLimitPlusOneKeys()
    {
        // etcd pushes the limit down because it tests the requested order (NONE), not the default.
        var store = new MvccStore();
        store.Put("c", "1");
        store.Put("b", "1");
        store.Put("a", "1");
        RangeResponse response = Ok(store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), SortTarget = SortTarget.Create, Limit = 1 }));
        Assert.Equal("b", Keys(response));
        Assert.True(response.More);
        Assert.Equal(3, response.Count);
    }

    [Fact]
    public void KeysOnlySortedByValue_SortsByTheRealValues()
    {
        var store = new MvccStore();
        store.Put("a", "2");
        store.Put("b", "1");
        RangeResponse response = Ok(store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), SortTarget = SortTarget.Value, SortOrder = SortOrder.Ascend, KeysOnly = true }));
        Assert.Equal("b,a", Keys(response));
        Assert.All(response.Kvs, kv => Assert.Empty(kv.Value));
    }

    [Fact]
    public void ModAndCreateFilters_DropKvs_CountStillCountsAll()
    {
        var store = Abcde(); // a@2 b@3 c@4 d@5 e@6
        store.Put("a", "again"); // a mod 7, create 2
        RangeResponse response = Ok(store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), MinModRevision = 4, MaxModRevision = 6 }));
        Assert.Equal("c,d,e", Keys(response));
        Assert.Equal(5, response.Count);
        response = Ok(store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), MinCreateRevision = 3, MaxCreateRevision = 4 }));
        Assert.Equal("b,c", Keys(response));
        response = Ok(store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), MinModRevision = 7, CountOnly = true }));
        Assert.Equal(5, response.Count);
    }

    [Fact]
    public void FilterWithLimit_FiltersBeforeLimiting()
    {
        RangeResponse response = Ok(Abcde().Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), MinModRevision = 4, Limit = 2 }));
        Assert.Equal("c,d", Keys(response));
        Assert.True(response.More);
    }

    [Fact]
    public void PastRevision_ReadsOldValues_HeaderIsCurrentRevision()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("a", "2");
        store.Delete("a");
        RangeResponse response = Ok(store.Range(new RangeRequest { Key = B("a"), Revision = 2 }));
        Assert.Equal("1", S(Assert.Single(response.Kvs).Value));
        Assert.Equal(4, response.Header.Revision);
        Assert.Equal("2", S(store.Get("a", 3)!.Value));
        Assert.Null(store.Get("a", 4));
        Assert.Null(store.Get("a", 1));
    }

    [Fact]
    public void FutureRevision_FailsWithEtcdError() =>
        Fails(new MvccStore().Range(new RangeRequest { Key = B("a"), Revision = 2 }), "etcdserver: mvcc: required revision is a future revision");

    [Fact]
    public void CompactedRevision_FailsButCompactRevisionItselfReads()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("a", "2");
        store.Put("a", "3");
        Ok(store.Compact(new CompactionRequest { Revision = 3 }));
        Fails(store.Range(new RangeRequest { Key = B("a"), Revision = 2 }), "etcdserver: mvcc: required revision has been compacted");
        Assert.Equal("2", S(store.Get("a", 3)!.Value));
    }

    [Fact]
    public void ManyKeysInRandomOrder_RangeReturnsThemSorted()
    {
        var store = new MvccStore();
        var random = new Random(7);
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        for (int index = 0; index < 20_000; index++)
        {
            string key = "k" + random.Next(0, 1_000_000).ToString("D7", System.Globalization.CultureInfo.InvariantCulture);
            keys.Add(key);
            store.Put(key, "v");
        }
        RangeResponse all = Ok(store.Range(new RangeRequest { Key = [0], RangeEnd = [0] }));
        Assert.Equal(keys.ToArray(), all.Kvs.Select(kv => S(kv.Key)).ToArray());
        RangeResponse slice = store.Range("k0300000", "k0400000");
        Assert.Equal(keys.GetViewBetween("k0300000", "k0399999~").ToArray(), slice.Kvs.Select(kv => S(kv.Key)).ToArray());
        Assert.Equal(keys.Count, store.KeyCount);
    }

    [Fact]
    public void RangeOfThousandKeys_AllocatesOnlyTheResult()
    {
        var store = new MvccStore();
        for (int index = 0; index < 5000; index++)
        {
            store.Put("key" + index.ToString("D5", System.Globalization.CultureInfo.InvariantCulture), "value");
        }
        var request = new RangeRequest { Key = B("key01000"), RangeEnd = B("key02000") };
        Ok(store.Range(request)); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        RangeResponse response = Ok(store.Range(request));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1000, response.Kvs.Count);
        // The result itself: 1000 KeyValue objects (64 B each) plus the list's growth arrays (~16 KB).
        Assert.True(allocated < 1000 * 64 + 20_000, $"allocated {allocated} bytes");
    }
}
