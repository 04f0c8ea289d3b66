using Parley.Raft;

namespace Parley.Simulation;

/// <summary>The network of the Raft-level simulation: Raft messages between <see cref="SimNode"/>s.</summary>
public sealed class SimNetwork(EventQueue events, Random random, SimulationParameters parameters, Func<ulong, SimNode?> lookup)
    : FaultyNetwork<SimNode>(events, random, new NetworkFaults(parameters.DropProbability, parameters.DuplicateProbability,
        parameters.NetworkLatencyMinMicros, parameters.NetworkLatencyMaxMicros), lookup)
{
    public void Send(Message message) => Transmit(message.From, message.To, node => node.Receive(message));
}
