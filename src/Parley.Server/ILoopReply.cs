namespace Parley.Server;

/// <summary>An answer <see cref="NodeLoop"/> delivers after its turn (see <see cref="LoopReply{T}"/>).</summary>
internal interface ILoopReply
{
    /// <summary>
    /// Whether the waiting handler's remaining work is small (a put's answer): then, when it is a turn's only answer, the
    /// loop thread completes it itself instead of handing it to the thread pool.
    /// </summary>
    bool IsSmall { get; }

    /// <summary>Completes the request's task: on a thread-pool thread, or on the thread that ran the turn for its one small answer.</summary>
    void Complete();
}
