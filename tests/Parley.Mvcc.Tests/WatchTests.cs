using static Parley.Mvcc.Tests.Kit;

namespace Parley.Mvcc.Tests;

public class WatchTests
{
    [Fact]
    public void EachWrite_YieldsItsEventsAtItsRevision()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        MvccEvent put = Assert.Single(store.Events(store.Revision));
        Assert.Equal(EventType.Put, put.Type);
        Assert.Equal("1", S(put.Kv.Value));
        Assert.Equal(2, put.Kv.ModRevision);
    }

    [Fact]
    public void TxnEvents_FollowOpOrderWithinTheRevision()
    {
        var store = new MvccStore();
        store.Put("z", "0");
        Ok(store.Txn(new TxnRequest { Success = [PutOp("b", "1"), DeleteOp("z"), PutOp("a", "1")] }));
        List<MvccEvent> events = store.Events(3);
        Assert.Equal(["b", "z", "a"], events.Select(e => S(e.Kv.Key)).ToArray());
        Assert.Equal([EventType.Put, EventType.Delete, EventType.Put], events.Select(e => e.Type).ToArray());
    }

    [Fact]
    public void DeleteEvent_CarriesOnlyKeyAndDeletionRevision()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Delete("a");
        MvccEvent delete = Assert.Single(store.Events(3));
        Assert.Equal(EventType.Delete, delete.Type);
        Assert.Equal("a", S(delete.Kv.Key));
        Assert.Equal(3, delete.Kv.ModRevision);
        Assert.Equal(0, delete.Kv.CreateRevision);
        Assert.Equal(0, delete.Kv.Version);
        Assert.Empty(delete.Kv.Value);
    }

    [Fact]
    public void PrevKv_IsPreviousValue_ButNotForCreations()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("a", "2");
        store.Delete("a");
        List<MvccEvent> events = store.Events(2, prevKv: true);
        Assert.Null(events[0].PrevKv);
        Assert.Equal("1", S(events[1].PrevKv!.Value));
        Assert.Equal("2", S(events[2].PrevKv!.Value));
    }

    [Fact]
    public void PrevKv_NotAskedFor_IsAbsent()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("a", "2");
        Assert.Null(store.Events(3)[0].PrevKv);
    }

    [Fact]
    public void PrevKv_IsOmittedWhenItsRevisionWasCompacted()
    {
        var store = new MvccStore();
        store.Put("a", "1"); // 2
        store.Put("a", "2"); // 3
        store.Put("a", "3"); // 4
        Ok(store.Compact(new CompactionRequest { Revision = 3 }));
        List<MvccEvent> events = store.Events(3, prevKv: true);
        Assert.Null(events[0].PrevKv); // would need revision 2
        Assert.Equal("2", S(events[1].PrevKv!.Value));
    }

    [Fact]
    public void Replay_FromPastRevision_IsInRevisionOrder()
    {
        var store = new MvccStore();
        store.Put("b", "1");
        store.Put("a", "1");
        store.Put("b", "2");
        Assert.Equal([2L, 3L, 4L], store.Events(2).Select(e => e.Kv.ModRevision).ToArray());
        Assert.Equal([3L, 4L], store.Events(3).Select(e => e.Kv.ModRevision).ToArray());
    }

    [Fact]
    public void Replay_FromBelowCompactRevision_FailsWithCompactRevision()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("a", "2");
        Ok(store.Compact(new CompactionRequest { Revision = 3 }));
        EventReadResult result = store.ReadEvents(new EventQuery(2, null, null, false, 100), []);
        Assert.Equal(MvccError.Compacted, result.Error);
        Assert.Equal(3, result.CompactRevision);
        Assert.Single(store.Events(3));
    }

    [Fact]
    public void Replay_FromFuture_IsEmptyAndWaitsThere()
    {
        var store = new MvccStore();
        var events = new List<MvccEvent>();
        EventReadResult result = store.ReadEvents(new EventQuery(5, null, null, false, 100), events);
        Assert.Equal(MvccError.None, result.Error);
        Assert.Equal(5, result.NextRevision);
        Assert.Empty(events);
    }

    [Fact]
    public void Replay_FiltersByKeyRange()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("b/1", "1");
        store.Put("b/2", "1");
        store.Put("c", "1");
        Assert.Equal(["b/1", "b/2"], store.Events(1, key: "b/", rangeEnd: "b0").Select(e => S(e.Kv.Key)).ToArray());
        Assert.Equal(["c"], store.Events(1, key: "c", rangeEnd: "").Select(e => S(e.Kv.Key)).ToArray());
        Assert.Equal(["b/2", "c"], store.Events(1, key: "b/2", rangeEnd: "\0").Select(e => S(e.Kv.Key)).ToArray());
    }

    [Fact]
    public void Replay_StopsAtRevisionBoundary_AndResumes()
    {
        var store = new MvccStore();
        store.Put("x", "0");
        Ok(store.Txn(new TxnRequest { Success = [PutOp("a", "1"), PutOp("b", "1"), PutOp("c", "1")] })); // rev 3
        store.Put("d", "1"); // rev 4
        var events = new List<MvccEvent>();
        EventReadResult first = store.ReadEvents(new EventQuery(2, null, null, false, 2), events);
        Assert.Equal(4, events.Count); // revision 3 is never split
        Assert.Equal(4, first.NextRevision);
        events.Clear();
        EventReadResult second = store.ReadEvents(new EventQuery(first.NextRevision, null, null, false, 2), events);
        Assert.Equal("d", S(Assert.Single(events).Kv.Key));
        Assert.Equal(5, second.NextRevision);
    }

    [Fact]
    public void Replay_ScanBudget_StopsBetweenRevisions_EvenWithoutMatches()
    {
        var store = new MvccStore();
        for (int i = 0; i < 10; i++)
        {
            store.Put("other-" + i, "v"); // revisions 2..11
        }
        store.Put("wanted", "v"); // 12
        var events = new List<MvccEvent>();
        EventReadResult first = store.ReadEvents(new EventQuery(2, B("wanted"), null, false, 100, ChangesScannedMax: 4), events);
        Assert.Empty(events);
        Assert.Equal(6, first.NextRevision);
        long next = first.NextRevision;
        for (int reads = 0; reads < 10 && events.Count == 0; reads++)
        {
            next = store.ReadEvents(new EventQuery(next, B("wanted"), null, false, 100, ChangesScannedMax: 4), events).NextRevision;
        }
        Assert.Equal("wanted", S(Assert.Single(events).Kv.Key));
        Assert.Equal(13, next);
    }

    [Fact]
    public void Replay_ByteBudget_StopsBetweenRevisions_NeverInsideOne()
    {
        var store = new MvccStore();
        store.Put("a", "0123456789"); // 2
        Ok(store.Txn(new TxnRequest { Success = [PutOp("b", "0123456789"), PutOp("c", "0123456789")] })); // 3
        store.Put("d", "0123456789"); // 4
        var events = new List<MvccEvent>();
        EventReadResult read = store.ReadEvents(new EventQuery(2, null, null, false, 100, EventBytesMax: 11), events);
        Assert.Single(events); // 11 bytes: the budget is spent, the read stops before revision 3
        Assert.Equal(3, read.NextRevision);
        events.Clear();
        read = store.ReadEvents(new EventQuery(3, null, null, false, 100, EventBytesMax: 11), events); // spent after b, but c is in the same revision
        Assert.Equal(["b", "c"], events.Select(e => S(e.Kv.Key)).ToArray());
        Assert.Equal(4, read.NextRevision);
    }

    [Theory]
    [InlineData("", "", "anything", true)]
    [InlineData("k", "", "k", true)]
    [InlineData("k", "", "k2", false)]
    [InlineData("a", "c", "b", true)]
    [InlineData("a", "c", "c", false)]
    [InlineData("b", "\0", "zz", true)]
    [InlineData("b", "\0", "a", false)]
    public void EventQuery_Matches_FollowsEtcdsRangeConventions(string key, string rangeEnd, string candidate, bool expected)
    {
        byte[] end = rangeEnd == "\\0" ? [0] : B(rangeEnd);
        Assert.Equal(expected, new EventQuery(1, B(key), end, false, 1).Matches(B(candidate)));
    }

    [Fact]
    public void TombstoneAtCompactRevision_IsNoLongerReplayed_AsInEtcd()
    {
        var store = new MvccStore();
        store.Put("a", "1"); // 2
        Ok(store.Txn(new TxnRequest { Success = [DeleteOp("a"), PutOp("b", "1")] })); // 3
        Ok(store.Compact(new CompactionRequest { Revision = 3 }));
        Assert.Equal(["b"], store.Events(3).Select(e => S(e.Kv.Key)).ToArray());
    }
}
