using Parley.Raft;

namespace Parley.Node;

/// <summary>
/// The node's only way out to its peers. Sends never block and may drop (Raft retransmits); the host implements it
/// over sockets, the simulator over its network.
/// </summary>
public interface INodeTransport
{
    void Send(Message message);

    /// <summary>A follower hands encoded proposals to the leader, which proposes them as they are.</summary>
    void Forward(ulong leader, IReadOnlyList<byte[]> proposals);
}
