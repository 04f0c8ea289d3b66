using Parley.Node;

namespace Parley.Server;

/// <summary>The node could not take or finish a request; maps to etcd's status and message.</summary>
internal sealed class NodeUnavailableException(NodeError error) : Exception(NodeErrors.Message(error))
{
    public NodeError Error { get; } = error;
}
