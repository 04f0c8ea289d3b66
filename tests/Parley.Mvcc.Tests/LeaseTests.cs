using static Parley.Mvcc.Tests.Kit;

namespace Parley.Mvcc.Tests;

public class LeaseTests
{
    [Fact]
    public void Grant_WithGivenId_UsesIt_AndDoesNotBumpRevision()
    {
        var store = new MvccStore();
        LeaseGrantResponse response = Ok(store.LeaseGrant(new LeaseGrantRequest { ID = 7, TTL = 30 }));
        Assert.Equal(7, response.ID);
        Assert.Equal(30, response.TTL);
        Assert.Equal(1, response.Header.Revision);
        Assert.Equal(1, store.Revision);
        Assert.Equal("", response.Error);
    }

    [Fact]
    public void Grant_AcceptsNegativeId() => Assert.Equal(-7, new MvccStore().Grant(-7));

    [Fact]
    public void Grant_WithoutId_ChoosesPositiveIdDeterministically()
    {
        long first = new MvccStore().Grant(0);
        long again = new MvccStore().Grant(0);
        Assert.True(first > 0);
        Assert.Equal(first, again);
        var store = new MvccStore();
        Assert.NotEqual(store.Grant(0), store.Grant(0));
    }

    [Fact]
    public void Grant_WithoutId_SkipsIdsTaken()
    {
        long chosen = new MvccStore().Grant(0);
        var store = new MvccStore();
        store.Grant(chosen);
        Assert.NotEqual(chosen, store.Grant(0));
    }

    [Fact]
    public void Grant_ExistingId_FailsWithFailedPrecondition()
    {
        var store = new MvccStore();
        store.Grant(7);
        MvccResult<LeaseGrantResponse> result = store.LeaseGrant(new LeaseGrantRequest { ID = 7, TTL = 5 });
        Fails(result, "etcdserver: lease already exists");
        Assert.Equal(MvccStatusCode.FailedPrecondition, result.StatusCode);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    [InlineData(-5)]
    public void Grant_BelowMinimumTtl_IsRaisedToMinimum(long ttl) =>
        Assert.Equal(2, Ok(new MvccStore().LeaseGrant(new LeaseGrantRequest { ID = 1, TTL = ttl })).TTL);

    [Fact]
    public void Grant_TooLargeTtl_FailsWithOutOfRange()
    {
        Ok(new MvccStore().LeaseGrant(new LeaseGrantRequest { ID = 1, TTL = 9_000_000_000 }));
        MvccResult<LeaseGrantResponse> result = new MvccStore().LeaseGrant(new LeaseGrantRequest { ID = 1, TTL = 9_000_000_001 });
        Fails(result, "etcdserver: too large lease TTL");
        Assert.Equal(MvccStatusCode.OutOfRange, result.StatusCode);
    }

    [Fact]
    public void Revoke_DeletesAttachedKeysInOneRevision_InKeyOrder()
    {
        var store = new MvccStore();
        store.Grant(7);
        store.Put("c", "1", 7);
        store.Put("a", "1", 7);
        store.Put("b", "1");
        LeaseRevokeResponse response = Ok(store.LeaseRevoke(new LeaseRevokeRequest { ID = 7 }));
        Assert.Equal(5, response.Header.Revision);
        Assert.Equal(5, store.Revision);
        Assert.Equal("b", Keys(store.Range("a", "z")));
        List<MvccEvent> events = store.Events(5);
        Assert.Equal(["a", "c"], events.Select(e => S(e.Kv.Key)).ToArray());
        Assert.All(events, e => Assert.Equal(EventType.Delete, e.Type));
        Assert.All(events, e => Assert.Equal(5, e.Kv.ModRevision));
        Fails(store.Lease(7), MvccErrors.LeaseNotFoundMessage);
    }

    [Fact]
    public void Revoke_WithoutKeys_DoesNotBumpRevision()
    {
        var store = new MvccStore();
        store.Grant(7);
        Assert.Equal(1, Ok(store.LeaseRevoke(new LeaseRevokeRequest { ID = 7 })).Header.Revision);
        Assert.Equal(1, store.Revision);
    }

    [Fact]
    public void Revoke_UnknownLease_IsNotFound() =>
        Fails(new MvccStore().LeaseRevoke(new LeaseRevokeRequest { ID = 3 }), "etcdserver: requested lease not found");

    [Fact]
    public void Revoke_LeavesKeysMovedToAnotherLease()
    {
        var store = new MvccStore();
        store.Grant(1);
        store.Grant(2);
        store.Put("a", "1", 1);
        store.Put("a", "2", 2);
        Ok(store.LeaseRevoke(new LeaseRevokeRequest { ID = 1 }));
        Assert.Equal("2", S(store.Get("a")!.Value));
    }

    [Fact]
    public void LeaseInfo_ListsKeysInOrderAndGrantedTtl()
    {
        var store = new MvccStore();
        store.Grant(9, ttl: 60);
        store.Put("b", "1", 9);
        store.Put("a", "1", 9);
        LeaseInfo info = Ok(store.Lease(9));
        Assert.Equal(60, info.TTL);
        Assert.Equal(["a", "b"], info.Keys.Select(S).ToArray());
    }

    [Fact]
    public void LeaseIds_AreListedAscending()
    {
        var store = new MvccStore();
        store.Grant(30);
        store.Grant(-2);
        store.Grant(10);
        Assert.Equal([-2L, 10L, 30L], store.LeaseIds());
    }

    [Fact]
    public void MinimumTtl_IsConfigurable() =>
        Assert.Equal(5, Ok(new MvccStore(new MvccOptions { LeaseTtlMinimumSeconds = 5 }).LeaseGrant(new LeaseGrantRequest { ID = 1, TTL = 1 })).TTL);

    [Fact]
    public void Checkpoint_RecordsRemainingTtl_WithoutRevision_AndSurvivesSnapshot()
    {
        var store = new MvccStore();
        store.Grant(4, ttl: 100);
        store.Grant(5, ttl: 10);
        long revision = store.Revision;
        var outcome = store.Apply(WriteCommand.LeaseCheckpoint(new LeaseCheckpointRequest
        {
            Checkpoints = [new LeaseCheckpoint(4, 37), new LeaseCheckpoint(5, 99), new LeaseCheckpoint(6, 1)],
        }));
        Assert.True(outcome.IsSuccess);
        Assert.Equal(revision, store.Revision);
        Assert.Equal(37, Ok(store.Lease(4)).RemainingTTL);
        Assert.Equal(10, Ok(store.Lease(5)).RemainingTTL); // clamped to the granted TTL
        Assert.Equal(MvccError.LeaseNotFound, store.Lease(6).Error); // unknown leases are skipped, not created
        MvccStore restored = Ok(MvccStore.Restore(store.Snapshot()));
        Assert.Equal(37, Ok(restored.Lease(4)).RemainingTTL);
        Assert.Equal(store.Snapshot(), restored.Snapshot());
    }

    [Fact]
    public void Checkpoint_OfZero_ClearsIt()
    {
        var store = new MvccStore();
        store.Grant(4, ttl: 100);
        Ok(store.LeaseCheckpoint(new LeaseCheckpointRequest { Checkpoints = [new LeaseCheckpoint(4, 50)] }));
        Ok(store.LeaseCheckpoint(new LeaseCheckpointRequest { Checkpoints = [new LeaseCheckpoint(4, 0)] }));
        Assert.Equal(0, Ok(store.Lease(4)).RemainingTTL);
    }
}
