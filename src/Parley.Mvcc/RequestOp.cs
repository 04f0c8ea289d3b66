namespace Parley.Mvcc;

/// <summary>etcdserverpb.RequestOp: exactly one of the four is set (none set is "etcdserver: key not found").</summary>
public sealed class RequestOp
{
    public RangeRequest? RequestRange { get; init; }

    public PutRequest? RequestPut { get; init; }

    public DeleteRangeRequest? RequestDeleteRange { get; init; }

    public TxnRequest? RequestTxn { get; init; }

    public static RequestOp Range(RangeRequest request) => new() { RequestRange = request };

    public static RequestOp Put(PutRequest request) => new() { RequestPut = request };

    public static RequestOp DeleteRange(DeleteRangeRequest request) => new() { RequestDeleteRange = request };

    public static RequestOp Txn(TxnRequest request) => new() { RequestTxn = request };
}
