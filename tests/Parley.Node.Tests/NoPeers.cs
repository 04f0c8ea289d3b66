using Parley.Raft;

namespace Parley.Node.Tests;

/// <summary>A transport for single-member nodes: nothing to send anywhere.</summary>
internal sealed class NoPeers : INodeTransport
{
    public void Send(Message message)
    {
    }

    public void Forward(ulong leader, IReadOnlyList<byte[]> proposals)
    {
    }

    public void SendForwardAnswer(ulong member, ForwardAnswer answer)
    {
    }

    public void SendLeaseQuery(ulong leader, LeaseQuery query)
    {
    }

    public void SendLeaseAnswer(ulong member, LeaseAnswer answer)
    {
    }
}
