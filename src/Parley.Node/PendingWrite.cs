namespace Parley.Node;

/// <summary>A client write waiting in the node: for its proposal to be applied, or for its deadline (in ticks).</summary>
internal sealed class PendingWrite(Action<WriteResult> complete, long deadlineTick)
{
    public Action<WriteResult> Complete { get; } = complete;

    public long DeadlineTick { get; } = deadlineTick;
}
