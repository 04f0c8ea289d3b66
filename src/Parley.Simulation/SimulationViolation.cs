namespace Parley.Simulation;

/// <summary>A broken safety or liveness property, found during a run.</summary>
public sealed class SimulationViolation : Exception
{
    public SimulationViolation()
    {
    }

    public SimulationViolation(string message) : base(message)
    {
    }

    public SimulationViolation(string message, Exception inner) : base(message, inner)
    {
    }

    public string Kind { get; init; } = "safety";
}
