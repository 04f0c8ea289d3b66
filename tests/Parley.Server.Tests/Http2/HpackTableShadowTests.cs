using Parley.Server.Http2;

namespace Parley.Server.Tests.Http2;

/// <summary>The shadow of the server's HPACK dynamic table evicts as RFC 7541 §4.3–4.4 says and resolves names by index.</summary>
public class HpackTableShadowTests
{
    [Fact]
    public void Entries_AreIndexedNewestFirst_AfterTheStaticTable()
    {
        var table = new HpackTableShadow(4096);
        Assert.True(table.TryGetName(1, out var length, out var isAuthority));
        Assert.Equal((10, true), (length, isAuthority));
        Assert.True(table.TryGetName(61, out length, out isAuthority));
        Assert.Equal(("www-authenticate".Length, false), (length, isAuthority));
        Assert.False(table.TryGetName(62, out _, out _));
        table.Add(10, 21, isAuthority: true);
        table.Add(5, 3, isAuthority: false);
        Assert.True(table.TryGetName(62, out length, out isAuthority));
        Assert.Equal((5, false), (length, isAuthority));
        Assert.True(table.TryGetName(63, out length, out isAuthority));
        Assert.Equal((10, true), (length, isAuthority));
        Assert.False(table.IsValidIndex(64));
        Assert.False(table.IsValidIndex(0));
        Assert.Equal((2, 63 + 40), (table.Count, table.Size));
    }

    [Fact]
    public void AddingPastTheMaximum_EvictsTheOldest_AndAnEntryLargerThanTheTableEmptiesIt()
    {
        var table = new HpackTableShadow(200);
        table.Add(10, 58, isAuthority: true); // 100 bytes
        table.Add(4, 64, isAuthority: false); // 100 bytes: full
        table.Add(1, 1, isAuthority: false); // 34 bytes: the authority entry goes
        Assert.Equal((2, 134), (table.Count, table.Size));
        Assert.True(table.TryGetName(63, out var length, out var isAuthority));
        Assert.Equal((4, false), (length, isAuthority));
        table.Add(100, 100, isAuthority: false); // 232 bytes > 200
        Assert.Equal((0, 0), (table.Count, table.Size));
    }

    [Fact]
    public void SizeUpdates_Evict_AndMayNotExceedTheSetting()
    {
        var table = new HpackTableShadow(4096);
        for (var i = 0; i < 100; i++)
        {
            table.Add(8, 0, isAuthority: i % 2 == 0); // 40 bytes each
        }
        Assert.Equal((100, 4000), (table.Count, table.Size));
        Assert.True(table.TrySetSizeMax(100));
        Assert.Equal((2, 80), (table.Count, table.Size));
        Assert.True(table.TryGetName(62, out _, out var newestIsAuthority));
        Assert.False(newestIsAuthority); // entry 99
        Assert.False(table.TrySetSizeMax(4097));
        Assert.True(table.TrySetSizeMax(0));
        Assert.Equal((0, 0), (table.Count, table.Size));
        for (var i = 0; i < 300; i++)
        {
            Assert.True(table.TrySetSizeMax(4096));
            table.Add(0, 0, isAuthority: false); // 32 bytes: the ring holds the 128 a full table can have
        }
        Assert.Equal((128, 4096), (table.Count, table.Size));
    }
}
