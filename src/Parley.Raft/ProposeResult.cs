namespace Parley.Raft;

/// <summary>Where an accepted proposal landed (its first entry's index and the term), or why it was refused.</summary>
public readonly record struct ProposeResult(ProposeStatus Status, ulong Index, ulong Term, ulong LeaderHint)
{
    public bool IsAccepted => Status == ProposeStatus.Accepted;
}
