namespace Parley.Simulation;

/// <summary>A seed's message-level faults: loss, duplication and a latency range (different delays reorder).</summary>
public readonly record struct NetworkFaults(double DropProbability, double DuplicateProbability, long LatencyMinMicros, long LatencyMaxMicros);
