namespace Parley.Node;

/// <summary>
/// A member's answer to one batch of forwarded proposals, sent back to the member that forwarded them. With
/// <see cref="ForwardVerdict.Appended"/>, <see cref="Indexes"/>[i] is where <see cref="ProposalIds"/>[i] sits in the
/// leader's log in <see cref="Term"/>; otherwise none of them was appended and <see cref="Indexes"/> is empty. The
/// origin uses it to tell a write that may still commit from one that never can (and so may safely be proposed again).
/// </summary>
public sealed record ForwardAnswer(ForwardVerdict Verdict, ulong Term, IReadOnlyList<ulong> ProposalIds, IReadOnlyList<ulong> Indexes)
{
    public static ForwardAnswer Refused(ForwardVerdict verdict, ulong term, IReadOnlyList<ulong> proposalIds) => new(verdict, term, proposalIds, []);
}
