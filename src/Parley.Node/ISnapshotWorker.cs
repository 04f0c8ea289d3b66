namespace Parley.Node;

/// <summary>
/// Where a member's periodic keyspace snapshot is written. The node captures the keyspace on its own thread (one pass
/// over the keys) and hands the rest (serializing every retained version, writing and fsyncing the file) to the
/// worker, so a large keyspace does not stall the node's turns (heartbeats, appends, reads) for the whole write.
/// </summary>
public interface ISnapshotWorker
{
    /// <summary>
    /// Runs <paramref name="work"/> (possibly on another thread), then calls <paramref name="finished"/> on the node's
    /// thread with what <paramref name="work"/> threw, or null. <paramref name="finished"/> must be called exactly once
    /// unless the node is stopping.
    /// </summary>
    void Run(Action work, Action<Exception?> finished);
}

/// <summary>Runs the work at once, on the node's thread (the simulator's and tests' default: deterministic).</summary>
public sealed class InlineSnapshotWorker : ISnapshotWorker
{
    public static readonly InlineSnapshotWorker Instance = new();

    public void Run(Action work, Action<Exception?> finished)
    {
        Exception? failure = null;
        try
        {
            work();
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            failure = exception;
        }
        finished(failure);
    }
}
