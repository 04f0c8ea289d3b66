namespace Parley.Simulation.NodeMode;

/// <summary>Storage and transport bugs the node-level simulator can switch on (<c>--inject-bug NAME</c>) to prove its checkers catch them.</summary>
public enum NodeSimulationBug
{
    None,
    /// <summary>fdatasync on the simulated disk returns success without making anything durable.</summary>
    SkipFsync,
    /// <summary>Recovery accepts WAL records and snapshot files without verifying their CRC.</summary>
    NoCrcCheck,
    /// <summary>A member sends only to the members of its applied membership, never to one it heard from but does not
    /// know yet (the peer transport before remote links: a member that is behind could not answer a newcomer that leads).</summary>
    NoRemoteLinks,
}

public static class NodeSimulationBugNames
{
    public static readonly IReadOnlyDictionary<string, NodeSimulationBug> ByName = new Dictionary<string, NodeSimulationBug>
    {
        ["skip-fsync"] = NodeSimulationBug.SkipFsync,
        ["no-crc-check"] = NodeSimulationBug.NoCrcCheck,
        ["no-remote-links"] = NodeSimulationBug.NoRemoteLinks,
    };

    public static string Name(NodeSimulationBug bug)
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
