namespace Parley.Mvcc;

/// <summary>etcdserverpb.TxnRequest: all compares ANDed; then Success, else Failure.</summary>
public sealed class TxnRequest
{
    public IReadOnlyList<Compare> Compare { get; init; } = [];

    public IReadOnlyList<RequestOp> Success { get; init; } = [];

    public IReadOnlyList<RequestOp> Failure { get; init; } = [];
}
