using Parley.Checker.Models.Etcd;
using Parley.Checker.Search;
using static Parley.Checker.Tests.History;

namespace Parley.Checker.Tests;

/// <summary>Claims about the etcd model: revisions couple keys, unknown outcomes fork, Txn compares as etcd does.</summary>
public sealed class EtcdModelTests
{
    [Fact]
    public void EtcdModel_FindsViolation_WhenTwoKeysClaimTheSameRevision()
    {
        // Each key alone is fine; only the global revision shows that both writes cannot be revision 2.
        var history = new[]
        {
            Etcd(1, EtcdRequest.Put("a", "1"), new EtcdResponse(false, Revision: 2), 0, 10),
            Etcd(2, EtcdRequest.Put("b", "1"), new EtcdResponse(false, Revision: 2), 20, 30),
        };

        Assert.Equal(Verdict.NotLinearizable, LinearizabilityChecker.Check(EtcdModel.Instance, history).Verdict);
    }

    [Fact]
    public void EtcdModel_FindsViolation_WhenGetReportsStaleRevision()
    {
        var history = new[]
        {
            Etcd(1, EtcdRequest.Put("a", "1"), new EtcdResponse(false, Revision: 2), 0, 10),
            Etcd(1, EtcdRequest.Put("b", "1"), new EtcdResponse(false, Revision: 3), 20, 30),
            Etcd(2, EtcdRequest.Get("a"), new EtcdResponse(false, Revision: 2, Value: "1", ModRevision: 2), 40, 50),
        };

        Assert.Equal(Verdict.NotLinearizable, LinearizabilityChecker.Check(EtcdModel.Instance, history).Verdict);
    }

    [Theory]
    [InlineData(null, 1L)]
    [InlineData("1", 2L)]
    public void EtcdModel_AcceptsUnknownPut_BothAppliedAndNotApplied(string? observed, long revision)
    {
        var history = new[]
        {
            EtcdUnknown(1, EtcdRequest.Put("a", "1"), 0),
            Etcd(2, EtcdRequest.Get("a"), new EtcdResponse(false, Revision: revision, Value: observed), 10, 20),
        };

        Assert.Equal(Verdict.Linearizable, LinearizabilityChecker.Check(EtcdModel.Instance, history).Verdict);
    }

    [Fact]
    public void EtcdModel_FindsViolation_WhenUnknownPutIsSeenThenUnseen()
    {
        var history = new[]
        {
            EtcdUnknown(1, EtcdRequest.Put("a", "1"), 0),
            Etcd(2, EtcdRequest.Get("a"), new EtcdResponse(false, Value: "1"), 10, 20),
            Etcd(2, EtcdRequest.Get("a"), new EtcdResponse(false, Value: null), 30, 40),
        };

        Assert.Equal(Verdict.NotLinearizable, LinearizabilityChecker.Check(EtcdModel.Instance, history).Verdict);
    }

    [Fact]
    public void EtcdModel_DeleteOfAbsentKey_DoesNotBumpRevision()
    {
        var history = new[]
        {
            Etcd(1, EtcdRequest.Delete("a"), new EtcdResponse(false, Revision: 1, Deleted: 0), 0, 10),
            Etcd(1, EtcdRequest.Put("a", "1"), new EtcdResponse(false, Revision: 2), 20, 30),
            Etcd(1, EtcdRequest.Delete("a"), new EtcdResponse(false, Revision: 3, Deleted: 1), 40, 50),
        };

        Assert.Equal(Verdict.Linearizable, LinearizabilityChecker.Check(EtcdModel.Instance, history).Verdict);
    }

    [Fact]
    public void EtcdModel_FindsViolation_WhenCompareAndSetSucceedsOnMovedModRevision()
    {
        var history = new[]
        {
            Etcd(1, EtcdRequest.Put("lock", "owner-1"), new EtcdResponse(false, Revision: 2), 0, 10),
            Etcd(1, EtcdRequest.Put("lock", "owner-2"), new EtcdResponse(false, Revision: 3), 20, 30),
            Etcd(2, EtcdRequest.CompareAndSet("lock", 2, "owner-3"), new EtcdResponse(false, Revision: 4, Succeeded: true), 40, 50),
        };

        Assert.Equal(Verdict.NotLinearizable, LinearizabilityChecker.Check(EtcdModel.Instance, history).Verdict);
    }

    [Fact]
    public void EtcdModel_AcceptsFailedCompareAndSet_WithUnchangedRevision()
    {
        var history = new[]
        {
            Etcd(1, EtcdRequest.Put("lock", "owner-1"), new EtcdResponse(false, Revision: 2), 0, 10),
            Etcd(2, EtcdRequest.CompareAndSet("lock", 0, "owner-2"), new EtcdResponse(false, Revision: 2, Succeeded: false), 20, 30),
        };

        Assert.Equal(Verdict.Linearizable, LinearizabilityChecker.Check(EtcdModel.Instance, history).Verdict);
    }

    [Fact]
    public void EtcdModel_ComparesMissingKeyValueAsFalse_LikeEtcd()
    {
        var compare = new EtcdCompare("a", EtcdCompareTarget.Value, EtcdCompareResult.NotEqual, "x", 0);
        var txn = EtcdRequest.Txn([compare], [new EtcdTxnOperation(EtcdRequestKind.Put, "b", "1")], []);
        var history = new[] { Etcd(1, txn, new EtcdResponse(false, Revision: 1, Succeeded: false), 0, 10) };

        Assert.Equal(Verdict.Linearizable, LinearizabilityChecker.Check(EtcdModel.Instance, history).Verdict);
    }
}
