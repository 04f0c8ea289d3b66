namespace Parley.Raft;

/// <summary>The state that must be durable before any message that depends on it leaves the member.</summary>
public readonly record struct HardState(ulong Term, ulong Vote, ulong Commit)
{
    public static readonly HardState Empty = default;

    public bool IsEmpty => Term == 0 && Vote == 0 && Commit == 0;
}
