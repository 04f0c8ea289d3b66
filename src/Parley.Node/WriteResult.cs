using Parley.Mvcc;

namespace Parley.Node;

/// <summary>A write's end: applied (with the store's outcome, which may itself be an MVCC error) or a node error.</summary>
public readonly record struct WriteResult(NodeError Error, WriteOutcome? Outcome, ulong RaftTerm)
{
    public static WriteResult Failed(NodeError error, ulong term) => new(error, null, term);
}
