using System.Diagnostics;
using System.Runtime.InteropServices;
using Parley.Node;

namespace Parley.Server;

/// <summary>
/// Writes a member's periodic snapshots on a thread of their own (serializing a large keyspace and fsyncing the file
/// take far longer than a heartbeat interval), then hands the result back to the node loop.
/// </summary>
/// <remarks>
/// The thread runs at a lower scheduling priority (nice <see cref="Niceness"/>): on a busy machine the node loop, the
/// request handlers and the peer links come first, and the snapshot takes the CPU they leave. .NET's
/// <see cref="Thread.Priority"/> changes nothing on Linux, so the thread sets its own niceness. <paramref name="written"/>
/// is told how long each snapshot took to write (etcd_debugging_snap_save_total_duration_seconds).
/// </remarks>
internal sealed class BackgroundSnapshotWorker(NodeLoop loop, Action<TimeSpan> written) : ISnapshotWorker
{
    /// <summary>Linux niceness of the snapshot thread: 10 gives it about a tenth of a core's share against normal threads.</summary>
    internal const int Niceness = 10;

    private const int PriorityOfProcess = 0; // PRIO_PROCESS: with a thread id, that one thread (Linux)

    public void Run(Action work, Action<Exception?> finished)
    {
        var thread = new Thread(() =>
        {
            LowerOwnPriority();
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

    /// <summary>The calling thread's niceness, or null where it cannot be read (off Linux).</summary>
    internal static int? CurrentNiceness()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        Marshal.SetLastPInvokeError(0);
        var niceness = GetPriority(PriorityOfProcess, GetThreadId());
        return niceness == -1 && Marshal.GetLastPInvokeError() != 0 ? null : niceness;
    }

    /// <summary>Best effort: a thread that cannot lower its priority still writes the snapshot.</summary>
    internal static void LowerOwnPriority()
    {
        if (OperatingSystem.IsLinux())
        {
            _ = SetPriority(PriorityOfProcess, GetThreadId(), Niceness);
        }
    }

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetThreadId();

    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static extern int SetPriority(int which, int who, int priority);

    [DllImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static extern int GetPriority(int which, int who);
}
