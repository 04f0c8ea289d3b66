namespace Parley.Torture;

/// <summary>The faults the nemesis injects. Names (kebab case) appear in the schedule and the run table.</summary>
public enum FaultKind
{
    /// <summary>SIGKILL a random member; restarted at heal.</summary>
    Kill,
    /// <summary>SIGKILL the current leader.</summary>
    KillLeader,
    /// <summary>SIGKILL every member at once (crash mode).</summary>
    KillAll,
    /// <summary>SIGSTOP a random member for longer than the election timeout; SIGCONT at heal.</summary>
    Pause,
    /// <summary>SIGSTOP the leader.</summary>
    PauseLeader,
    /// <summary>Random minority | majority split, both directions.</summary>
    PartitionHalves,
    /// <summary>The leader alone | everybody else.</summary>
    PartitionLeader,
    /// <summary>Two halves that can both talk to one bridge member but not to each other.</summary>
    PartitionBridge,
    /// <summary>One member's outgoing frames are dropped; it still hears everybody.</summary>
    PartitionAsymmetric,
    /// <summary>Every peer frame delayed (tens to hundreds of milliseconds, with jitter).</summary>
    Latency,
    /// <summary>A share of every link's peer frames dropped.</summary>
    Loss,
    /// <summary>Remove a voter (sometimes the leader), add a fresh member as a learner and promote it.</summary>
    MemberChange,
    /// <summary>Maintenance.MoveLeader to a random other voter.</summary>
    MoveLeader,
}

public static class FaultKinds
{
    /// <summary>Nemesis groups accepted by <c>--nemesis</c>; "all" is every group.</summary>
    public static readonly IReadOnlyDictionary<string, FaultKind[]> Groups = new Dictionary<string, FaultKind[]>(StringComparer.Ordinal)
    {
        ["kill"] = [FaultKind.Kill, FaultKind.KillLeader],
        ["pause"] = [FaultKind.Pause, FaultKind.PauseLeader],
        ["partition"] = [FaultKind.PartitionHalves, FaultKind.PartitionLeader, FaultKind.PartitionBridge, FaultKind.PartitionAsymmetric],
        ["latency"] = [FaultKind.Latency],
        ["loss"] = [FaultKind.Loss],
        ["member"] = [FaultKind.MemberChange, FaultKind.MoveLeader],
    };

    public static string Name(FaultKind kind) => kind switch
    {
        FaultKind.Kill => "kill",
        FaultKind.KillLeader => "kill-leader",
        FaultKind.KillAll => "kill-all",
        FaultKind.Pause => "pause",
        FaultKind.PauseLeader => "pause-leader",
        FaultKind.PartitionHalves => "partition-halves",
        FaultKind.PartitionLeader => "partition-leader",
        FaultKind.PartitionBridge => "partition-bridge",
        FaultKind.PartitionAsymmetric => "partition-asymmetric",
        FaultKind.Latency => "latency",
        FaultKind.Loss => "loss",
        FaultKind.MemberChange => "member-change",
        FaultKind.MoveLeader => "move-leader",
        _ => kind.ToString(),
    };

    /// <summary>Parses a comma-separated list of groups ("kill,partition") or "all"; null when a name is unknown.</summary>
    public static FaultKind[]? Parse(string text)
    {
        var kinds = new List<FaultKind>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part == "all")
            {
                kinds.AddRange(Groups.Values.SelectMany(group => group));
            }
            else if (part == "none")
            {
                continue;
            }
            else if (Groups.TryGetValue(part, out var group))
            {
                kinds.AddRange(group);
            }
            else
            {
                return null;
            }
        }
        return [.. kinds.Distinct()];
    }
}
