namespace Parley.Node;

/// <summary>A client write waiting in the node: for its proposal to be applied, or for its deadline (in ticks).</summary>
internal sealed class PendingWrite(Action<WriteResult> complete, long deadlineTick, byte[] payload)
{
    public Action<WriteResult> Complete { get; } = complete;

    public long DeadlineTick { get; } = deadlineTick;

    /// <summary>The encoded proposal, kept so that it can be proposed again once it is known never to commit.</summary>
    public byte[] Payload { get; } = payload;

    public ForwardState Forward { get; set; }

    /// <summary>The leader this member believed in, and its term, when it last forwarded the write.</summary>
    public (ulong Leader, ulong Term) ForwardedIn { get; set; }
}
