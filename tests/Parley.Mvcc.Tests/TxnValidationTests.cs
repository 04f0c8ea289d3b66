using static Parley.Mvcc.Tests.Kit;

namespace Parley.Mvcc.Tests;

public class TxnValidationTests
{
    private static RequestOp[] Puts(int count) =>
        Enumerable.Range(0, count).Select(index => PutOp("k" + index, "v")).ToArray();

    [Fact]
    public void OpsAtTheLimit_AreAccepted() => Ok(new MvccStore().Txn(new TxnRequest { Success = Puts(128) }));

    [Fact]
    public void MoreOpsThanLimitInSuccess_AreRejected() =>
        Fails(new MvccStore().Txn(new TxnRequest { Success = Puts(129) }), "etcdserver: too many operations in txn request");

    [Fact]
    public void MoreComparesThanLimit_AreRejected()
    {
        Compare[] compares = Enumerable.Range(0, 129).Select(index => ValueIs("k" + index, "v")).ToArray();
        Fails(new MvccStore().Txn(new TxnRequest { Compare = compares }), "etcdserver: too many operations in txn request");
    }

    [Fact]
    public void MoreOpsThanLimitInFailure_AreRejected() =>
        Fails(new MvccStore().Txn(new TxnRequest { Failure = Puts(129) }), "etcdserver: too many operations in txn request");

    [Fact]
    public void NestedTxn_GetsOnlyTheRemainingBudget()
    {
        var nested = new TxnRequest { Success = Puts(3) };
        RequestOp[] outer = [.. Puts(125), RequestOp.Txn(nested)];
        Fails(new MvccStore().Txn(new TxnRequest { Success = outer }), "etcdserver: too many operations in txn request");
        var store = new MvccStore(new MvccOptions { TxnOperationsMax = 10 });
        Ok(store.Txn(new TxnRequest { Success = [PutOp("a", "1"), RequestOp.Txn(new TxnRequest { Success = Puts(8) })] }));
    }

    [Fact]
    public void LimitIsConfigurable() =>
        Fails(new MvccStore(new MvccOptions { TxnOperationsMax = 2 }).Txn(new TxnRequest { Success = Puts(3) }), MvccErrors.TooManyOperationsMessage);

    [Fact]
    public void TwoPutsOfOneKey_AreDuplicate() =>
        Fails(new MvccStore().Txn(new TxnRequest { Success = [PutOp("a", "1"), PutOp("a", "2")] }), "etcdserver: duplicate key given in txn request");

    [Fact]
    public void PutInsideDeletedRange_IsDuplicate_EitherOrder()
    {
        Fails(new MvccStore().Txn(new TxnRequest { Success = [DeleteOp("a", "c"), PutOp("b", "1")] }), MvccErrors.DuplicateKeyMessage);
        Fails(new MvccStore().Txn(new TxnRequest { Success = [PutOp("b", "1"), DeleteOp("a", "c")] }), MvccErrors.DuplicateKeyMessage);
        Fails(new MvccStore().Txn(new TxnRequest { Success = [PutOp("a", "1"), DeleteOp("a")] }), MvccErrors.DuplicateKeyMessage);
    }

    [Fact]
    public void PutAtRangeEnd_IsNotCoveredByDelete() =>
        Ok(new MvccStore().Txn(new TxnRequest { Success = [DeleteOp("a", "c"), PutOp("c", "1")] }));

    [Fact]
    public void OverlappingDeletes_AreFine() =>
        Ok(new MvccStore().Txn(new TxnRequest { Success = [DeleteOp("a", "c"), DeleteOp("b", "d"), DeleteOp("b")] }));

    [Fact]
    public void SameKeyInSuccessAndFailure_IsFine() =>
        Ok(new MvccStore().Txn(new TxnRequest { Success = [PutOp("a", "1")], Failure = [PutOp("a", "2")] }));

    [Fact]
    public void PutInNestedTxn_ClashesWithOuterPut()
    {
        var nested = new TxnRequest { Success = [PutOp("a", "2")] };
        Fails(new MvccStore().Txn(new TxnRequest { Success = [PutOp("a", "1"), RequestOp.Txn(nested)] }), MvccErrors.DuplicateKeyMessage);
    }

    [Fact]
    public void PutInNestedTxn_ClashesWithOuterDelete()
    {
        var nested = new TxnRequest { Failure = [PutOp("b", "2")] };
        Fails(new MvccStore().Txn(new TxnRequest { Success = [DeleteOp("a", "z"), RequestOp.Txn(nested)] }), MvccErrors.DuplicateKeyMessage);
    }

    [Fact]
    public void DeleteInNestedTxn_ClashesWithOuterPut()
    {
        var nested = new TxnRequest { Success = [DeleteOp("a", "z")] };
        Fails(new MvccStore().Txn(new TxnRequest { Success = [PutOp("b", "1"), RequestOp.Txn(nested)] }), MvccErrors.DuplicateKeyMessage);
    }

    [Fact]
    public void ThenAndElseOfOneNestedTxn_MayPutSameKey()
    {
        var nested = new TxnRequest { Success = [PutOp("a", "1")], Failure = [PutOp("a", "2")] };
        Ok(new MvccStore().Txn(new TxnRequest { Success = [RequestOp.Txn(nested)] }));
    }

    [Fact]
    public void TwoNestedTxns_PuttingSameKey_AreDuplicate()
    {
        var first = new TxnRequest { Success = [PutOp("a", "1")] };
        var second = new TxnRequest { Failure = [PutOp("a", "2")] };
        Fails(new MvccStore().Txn(new TxnRequest { Success = [RequestOp.Txn(first), RequestOp.Txn(second)] }), MvccErrors.DuplicateKeyMessage);
    }

    [Fact]
    public void FromKeyDelete_DoesNotClashWithPuts_AsInEtcd() =>
        Ok(new MvccStore().Txn(new TxnRequest { Success = [RequestOp.DeleteRange(new DeleteRangeRequest { Key = B("a"), RangeEnd = [0] }), PutOp("b", "1")] }));

    [Fact]
    public void EmptyKeyInCompare_IsRejected() =>
        Fails(new MvccStore().Txn(new TxnRequest { Compare = [new Compare()] }), "etcdserver: key is not provided");

    [Fact]
    public void EmptyKeyInOp_IsRejected()
    {
        Fails(new MvccStore().Txn(new TxnRequest { Success = [GetOp("")] }), MvccErrors.KeyNotProvidedMessage);
        Fails(new MvccStore().Txn(new TxnRequest { Failure = [DeleteOp("")] }), MvccErrors.KeyNotProvidedMessage);
    }

    [Fact]
    public void PutOpFlagsAreValidated() =>
        Fails(new MvccStore().Txn(new TxnRequest { Success = [RequestOp.Put(new PutRequest { Key = B("a"), Value = B("x"), IgnoreValue = true })] }), MvccErrors.ValueProvidedMessage);

    [Fact]
    public void EmptyRequestOp_IsKeyNotFound() =>
        Fails(new MvccStore().Txn(new TxnRequest { Success = [new RequestOp()] }), "etcdserver: key not found");

    [Fact]
    public void TooManyOps_IsReportedBeforeDuplicates() =>
        Fails(new MvccStore(new MvccOptions { TxnOperationsMax = 1 }).Txn(new TxnRequest { Success = [PutOp("a", "1"), PutOp("a", "1")] }), MvccErrors.TooManyOperationsMessage);

    [Fact]
    public void Validator_IsUsableBeforeProposing()
    {
        Assert.Equal(MvccError.DuplicateKey, RequestValidator.ValidateTxn(new TxnRequest { Success = [PutOp("a", "1"), PutOp("a", "1")] }, 128));
        Assert.Equal(MvccError.None, RequestValidator.ValidateTxn(new TxnRequest { Success = [PutOp("a", "1")] }, 128));
        Assert.Equal(MvccStatusCode.InvalidArgument, MvccErrors.StatusCode(MvccError.DuplicateKey));
    }
}
