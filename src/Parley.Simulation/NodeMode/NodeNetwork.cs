using Parley.Node;
using Parley.Raft;

namespace Parley.Simulation.NodeMode;

/// <summary>The network of the node-level simulation: Raft messages, forwarded proposals and their answers, lease questions.</summary>
public sealed class NodeNetwork(EventQueue events, Random random, NodeSimulationParameters parameters, Func<ulong, SimMember?> lookup)
    : FaultyNetwork<SimMember>(events, random, new NetworkFaults(parameters.DropProbability, parameters.DuplicateProbability,
        parameters.NetworkLatencyMinMicros, parameters.NetworkLatencyMaxMicros), lookup)
{
    /// <summary>
    /// Raft messages: the sending member checked the address already, before the checker saw the message. A snapshot's
    /// data is read as it is sent, as a peer link does: the receiver must not read the sender's snapshot file later, when
    /// a newer snapshot may have replaced it and pruned it.
    /// </summary>
    public void Send(Message message)
    {
        var sent = message.Snapshot is { Data.IsEmpty: false } snapshot ? message.WithSnapshot(snapshot with { Data = snapshot.Data.ToArray() }) : message;
        Transmit(message.From, message.To, member => member.Receive(sent));
    }

    public void Forward(ulong from, ulong to, IReadOnlyList<byte[]> proposals) =>
        TransmitIfAddressed(from, to, member => member.Deliver(from, node => node.ReceiveForwarded(from, proposals)));

    public void SendForwardAnswer(ulong from, ulong to, ForwardAnswer answer) =>
        TransmitIfAddressed(from, to, member => member.Deliver(from, node => node.ReceiveForwardAnswer(answer)));

    public void SendLeaseQuery(ulong from, ulong to, LeaseQuery query) =>
        TransmitIfAddressed(from, to, member => member.Deliver(from, node => node.ReceiveLeaseQuery(from, query)));

    public void SendLeaseAnswer(ulong from, ulong to, LeaseAnswer answer) =>
        TransmitIfAddressed(from, to, member => member.Deliver(from, node => node.ReceiveLeaseAnswer(answer)));

    /// <summary>A member has links only to those it can address (<see cref="SimMember.CanAddress"/>); the rest is dropped at the sender.</summary>
    private void TransmitIfAddressed(ulong from, ulong to, Action<SimMember> deliver)
    {
        if (Lookup(from) is not { } sender || sender.CanAddress(to))
        {
            Transmit(from, to, deliver);
        }
    }
}
