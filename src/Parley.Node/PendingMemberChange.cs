namespace Parley.Node;

/// <summary>A membership request or leadership move waiting in the node: for its entry to apply, or for its deadline.</summary>
internal sealed record PendingMemberChange(Action<MemberChangeResult> Complete, long DeadlineTick, ulong TransferTarget = 0);
