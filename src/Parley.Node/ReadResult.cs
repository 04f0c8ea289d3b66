using Parley.Mvcc;

namespace Parley.Node;

/// <summary>A linearizable read's end: the range result (possibly an MVCC error), or a node error.</summary>
public readonly record struct ReadResult(NodeError Error, MvccResult<RangeResponse> Range, ulong RaftTerm)
{
    public static ReadResult Failed(NodeError error, ulong term) => new(error, default, term);
}
