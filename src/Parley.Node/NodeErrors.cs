namespace Parley.Node;

/// <summary>etcd's exact message and gRPC status code (same numbers as gRPC) for each <see cref="NodeError"/>.</summary>
public static class NodeErrors
{
    public const int Unavailable = 14;
    public const int ResourceExhausted = 8;

    public static string Message(NodeError error) => error switch
    {
        NodeError.None => "",
        NodeError.NoLeader => "etcdserver: no leader",
        NodeError.LeaderChanged => "etcdserver: leader changed",
        NodeError.TimedOut => "etcdserver: request timed out",
        NodeError.TooManyRequests => "etcdserver: too many requests",
        NodeError.Stopped => "etcdserver: server stopped",
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, "unknown node error"),
    };

    public static int StatusCode(NodeError error) =>
        error == NodeError.TooManyRequests ? ResourceExhausted : Unavailable;
}
