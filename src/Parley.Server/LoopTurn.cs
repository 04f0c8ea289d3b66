namespace Parley.Server;

/// <summary>
/// Marks the thread that runs a node loop's turn: the loop's own thread, or a thread that posted to an idle loop and
/// ran the turn itself (<see cref="NodeLoop.TryPost"/>). What the node sends during a turn is staged and leaves at the
/// turn's flush, one write per peer (<see cref="Peer.PeerTransport.Flush"/>); sends from any other thread leave at once.
/// </summary>
internal static class LoopTurn
{
    [ThreadStatic]
    private static object? t_owner;

    /// <summary>The loop whose turn this thread is running, or null.</summary>
    public static object? Owner => t_owner;

    public static bool IsActive => t_owner is not null;

    /// <summary>Marks this thread as running <paramref name="owner"/>'s turn until the scope is disposed.</summary>
    public static Scope Enter(object owner)
    {
        var previous = t_owner;
        t_owner = owner;
        return new Scope(previous);
    }

    public readonly struct Scope(object? previous) : IDisposable
    {
        public void Dispose() => t_owner = previous;
    }
}
