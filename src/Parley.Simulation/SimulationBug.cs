namespace Parley.Simulation;

/// <summary>Known bugs the simulator can switch on (<c>--inject-bug NAME</c>) to prove its checkers catch them.</summary>
public enum SimulationBug
{
    None,
    /// <summary>Count replicas of an older-term entry toward commit (the Raft paper's Figure 8).</summary>
    CommitOldTerm,
    /// <summary>Grant votes without the up-to-date log check.</summary>
    VoteWithoutLogCheck,
    /// <summary>A member acknowledges entries (and votes) before they are durable.</summary>
    AckBeforePersist,
    /// <summary>Term and vote are not persisted across restarts.</summary>
    ForgetVote,
}

public static class SimulationBugNames
{
    public static readonly IReadOnlyDictionary<string, SimulationBug> ByName = new Dictionary<string, SimulationBug>
    {
        ["commit-old-term"] = SimulationBug.CommitOldTerm,
        ["vote-without-log-check"] = SimulationBug.VoteWithoutLogCheck,
        ["ack-before-persist"] = SimulationBug.AckBeforePersist,
        ["forget-vote"] = SimulationBug.ForgetVote,
    };

    public static string Name(SimulationBug bug)
    {
        foreach (var (name, value) in ByName)
        {
            if (value == bug)
            {
                return name;
            }
        }
        return "none";
    }
}
