namespace Parley.Simulation;

/// <summary>What the simulated network needs to know of a member: whether it runs, and which life it is in.</summary>
public interface ISimEndpoint
{
    /// <summary>Counts crashes: what an earlier incarnation still had in its send buffers is lost.</summary>
    long Incarnation { get; }

    bool IsRunning { get; }
}
