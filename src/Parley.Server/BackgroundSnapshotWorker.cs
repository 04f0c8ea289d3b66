using System.Diagnostics;
using Parley.Node;

namespace Parley.Server;

/// <summary>
/// Writes a member's periodic snapshots on a thread of their own (serializing a large keyspace and fsyncing the file
/// take far longer than a heartbeat interval), then hands the result back to the node loop; <paramref name="written"/>
/// is told how long each one took to write (etcd_debugging_snap_save_total_duration_seconds).
/// </summary>
/// <remarks>
/// The thread runs at the member's normal priority. At nice 10 (tried; .NET's <see cref="Thread.Priority"/> does
/// nothing on Linux) the put p99 under load was lower, but a snapshot started during a long burst of writes then
/// finished so late that a member restarted after the burst had 800k puts to replay instead of 200-300k
/// (docs/benchmarks.md).
/// </remarks>
internal sealed class BackgroundSnapshotWorker(NodeLoop loop, Action<TimeSpan> written) : ISnapshotWorker
{
    public void Run(Action work, Action<Exception?> finished)
    {
        var thread = new Thread(() =>
        {
            Exception? failure = null;
            var started = Stopwatch.GetTimestamp();
            try
            {
                work();
                written(Stopwatch.GetElapsedTime(started));
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
        };
        thread.Start();
    }
}
