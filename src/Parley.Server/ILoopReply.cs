namespace Parley.Server;

/// <summary>An answer <see cref="NodeLoop"/> delivers after its turn (see <see cref="LoopReply{T}"/>).</summary>
internal interface ILoopReply
{
    /// <summary>Completes the request's task; runs on a thread-pool thread, never on the loop thread.</summary>
    void Complete();
}
