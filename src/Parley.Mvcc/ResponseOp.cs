namespace Parley.Mvcc;

/// <summary>etcdserverpb.ResponseOp: the set member matches the request op's kind.</summary>
public sealed class ResponseOp
{
    public RangeResponse? ResponseRange { get; init; }

    public PutResponse? ResponsePut { get; init; }

    public DeleteRangeResponse? ResponseDeleteRange { get; init; }

    public TxnResponse? ResponseTxn { get; init; }
}
