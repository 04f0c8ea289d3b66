using Parley.Raft;

namespace Parley.Node;

/// <summary>
/// The node's only way out to its peers. Sends never block and may drop (Raft retransmits; lease questions are asked
/// again or time out); the host implements it over sockets, the simulator over its network.
/// </summary>
public interface INodeTransport
{
    /// <summary>
    /// Called on the node's thread, and with <see cref="NodeOptions.SyncOffLoop"/> also on the <see cref="IWalSyncer"/>'s
    /// (the acknowledgements a sync releases): a send from another thread than the node's goes out without <see cref="Flush"/>.
    /// </summary>
    void Send(Message message);

    /// <summary>A follower hands encoded proposals to the leader, which proposes them as they are
    /// (<see cref="ClusterNode.ReceiveForwarded"/> there).</summary>
    void Forward(ulong leader, IReadOnlyList<byte[]> proposals);

    /// <summary>The leader tells the forwarding member where its proposals were appended, or that they were not
    /// (<see cref="ClusterNode.ReceiveForwardAnswer"/> there).</summary>
    void SendForwardAnswer(ulong member, ForwardAnswer answer);

    /// <summary>A member asks the leader a lease question (<see cref="ClusterNode.ReceiveLeaseQuery"/> there).</summary>
    void SendLeaseQuery(ulong leader, LeaseQuery query);

    /// <summary>The leader answers the member that asked (<see cref="ClusterNode.ReceiveLeaseAnswer"/> there).</summary>
    void SendLeaseAnswer(ulong member, LeaseAnswer answer);

    /// <summary>
    /// What was sent so far may go out now, before the node goes on (a transport may hold sends to write them together):
    /// called before the node syncs its log, so that followers write theirs meanwhile, once its acknowledgements may
    /// leave, and at the end of every <see cref="ClusterNode.Process"/>.
    /// </summary>
    void Flush()
    {
    }
}
