namespace Parley.Mvcc;

/// <summary>etcdserverpb.TxnResponse: one response per executed op, in order.</summary>
public sealed class TxnResponse
{
    public ResponseHeader Header { get; init; }

    public bool Succeeded { get; init; }

    public IReadOnlyList<ResponseOp> Responses { get; init; } = [];
}
