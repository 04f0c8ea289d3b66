using Parley.Node;

namespace Parley.Server;

/// <summary>
/// Writes a member's periodic snapshots on a thread of their own (serializing a large keyspace and fsyncing the file
/// take far longer than a heartbeat interval), then hands the result back to the node loop.
/// </summary>
internal sealed class BackgroundSnapshotWorker(NodeLoop loop) : ISnapshotWorker
{
    public void Run(Action work, Action<Exception?> finished)
    {
        var thread = new Thread(() =>
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
            loop.PostInternal(_ => finished(failure)); // dropped only when the loop has stopped
        })
        {
            IsBackground = true,
            Name = "parley-snapshot",
            Priority = ThreadPriority.BelowNormal,
        };
        thread.Start();
    }
}
