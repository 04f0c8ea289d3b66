using static Parley.Mvcc.Tests.Kit;

namespace Parley.Mvcc.Tests;

public class AlarmTests
{
    private static WriteOutcome Raise(MvccStore store, ulong member, AlarmType alarm = AlarmType.NoSpace, AlarmAction action = AlarmAction.Activate) =>
        store.Apply(WriteCommand.Alarm(new AlarmRequest { Action = action, MemberId = member, Alarm = alarm }));

    private static IReadOnlyList<AlarmMember> Listed(WriteOutcome outcome) => ((AlarmResponse)outcome.Response!).Alarms;

    [Fact]
    public void Activate_ListsTheNewAlarm_Once_AndGetListsAll_ByMember()
    {
        var store = new MvccStore();
        Assert.Equal([new AlarmMember(7, AlarmType.NoSpace)], Listed(Raise(store, 7)));
        Assert.Equal([new AlarmMember(7, AlarmType.NoSpace)], Listed(Raise(store, 7))); // already raised: listed again, once in the store
        Assert.Equal([new AlarmMember(5, AlarmType.None)], Listed(Raise(store, 5, AlarmType.None))); // stored, as etcd 3.4 does
        Raise(store, 3, AlarmType.Corrupt);
        Assert.Equal([new AlarmMember(3, AlarmType.Corrupt), new AlarmMember(5, AlarmType.None), new AlarmMember(7, AlarmType.NoSpace)], Listed(Raise(store, 0, AlarmType.None, AlarmAction.Get)));
        Assert.Empty(Listed(Raise(store, 5, AlarmType.Corrupt, AlarmAction.Deactivate))); // not raised
        Assert.Equal([new AlarmMember(5, AlarmType.None)], Listed(Raise(store, 5, AlarmType.None, AlarmAction.Deactivate)));
        Assert.Equal([new AlarmMember(7, AlarmType.NoSpace)], Listed(Raise(store, 0, AlarmType.NoSpace, AlarmAction.Get)));
        Assert.Equal(1, store.Revision); // alarms are not keyspace writes
    }

    [Fact]
    public void NoSpace_RefusesPutsTxnPutsAndGrants_ButServesReadsDeletesCompactionsAndRevokes()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        store.Put("b", "1");
        store.Grant(9);
        Raise(store, 1);
        Assert.True(store.IsSpaceCapped);
        var refused = new[]
        {
            WriteCommand.Put(new PutRequest { Key = B("c"), Value = B("1") }),
            WriteCommand.Txn(new TxnRequest { Failure = [PutOp("c", "1")] }),
            WriteCommand.LeaseGrant(new LeaseGrantRequest { ID = 10, TTL = 10 }),
        };
        foreach (var command in refused)
        {
            WriteOutcome outcome = store.Apply(command);
            Assert.Equal(MvccError.NoSpace, outcome.Error);
            Assert.Equal("etcdserver: mvcc: database space exceeded", outcome.ErrorMessage);
            Assert.Equal(MvccStatusCode.ResourceExhausted, MvccErrors.StatusCode(outcome.Error));
        }
        Assert.Equal(3, store.Revision);
        Assert.True(store.Apply(WriteCommand.Txn(new TxnRequest { Success = [GetOp("a"), DeleteOp("a")] })).IsSuccess);
        // etcd counts a txn's cost by its top-level puts only: a put inside a nested txn passes the cap.
        Assert.True(store.Apply(WriteCommand.Txn(new TxnRequest { Success = [RequestOp.Txn(new TxnRequest { Success = [PutOp("n", "1")] })] })).IsSuccess);
        Assert.True(store.Apply(WriteCommand.DeleteRange(new DeleteRangeRequest { Key = B("b") })).IsSuccess);
        Assert.True(store.Apply(WriteCommand.Compaction(new CompactionRequest { Revision = store.Revision })).IsSuccess);
        Assert.True(store.Apply(WriteCommand.LeaseRevoke(new LeaseRevokeRequest { ID = 9 })).IsSuccess);
        Assert.Equal([new AlarmMember(1, AlarmType.NoSpace)], Listed(Raise(store, 1, action: AlarmAction.Deactivate)));
        Assert.False(store.IsSpaceCapped);
        Assert.True(store.Apply(refused[0]).IsSuccess);
    }

    [Fact]
    public void Alarms_SurviveSnapshotRestore_AndChangeItsBytes()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        byte[] before = store.Snapshot();
        Raise(store, 2);
        Raise(store, 1, AlarmType.Corrupt);
        byte[] after = store.Snapshot();
        Assert.NotEqual(before, after);
        MvccStore restored = Ok(MvccStore.Restore(after));
        Assert.Equal(store.Alarms, restored.Alarms);
        Assert.True(restored.IsSpaceCapped);
        Assert.Equal(after, restored.Snapshot());
        Assert.Empty(Ok(MvccStore.Restore(before)).Alarms);
    }
}
