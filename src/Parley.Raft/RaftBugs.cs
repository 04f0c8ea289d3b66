namespace Parley.Raft;

/// <summary>
/// Known protocol bugs that the simulator can switch on to prove its checkers catch them. Never set outside
/// tests: each one breaks safety.
/// </summary>
[Flags]
public enum RaftBugs
{
    None = 0,
    /// <summary>Commit an entry of an older term by counting its replicas (the Raft paper's Figure 8).</summary>
    CommitOldTerm = 1,
    /// <summary>Grant votes without the up-to-date log check (§5.4.1).</summary>
    VoteWithoutLogCheck = 2,
}
