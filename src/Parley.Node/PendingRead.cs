using Parley.Mvcc;

namespace Parley.Node;

/// <summary>A linearizable range waiting for a read index and then for the apply loop to reach it.</summary>
internal sealed record PendingRead(RangeRequest Request, Action<ReadResult> Complete, long DeadlineTick);
