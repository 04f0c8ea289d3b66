using System.Collections.Concurrent;
using Parley.Node;

namespace Parley.Server;

/// <summary>
/// A member's WAL sync thread (<see cref="NodeOptions.SyncOffLoop"/>): it writes and fdatasyncs the batch the node
/// hands it, then posts the completion to the node loop, never refused (<see cref="NodeLoop.PostInternal"/>). The node
/// hands over one batch at a time; what it appends meanwhile goes out in the next one.
/// </summary>
internal sealed class WalSyncThread : IWalSyncer, IDisposable
{
    private readonly NodeLoop _loop;
    private readonly SemaphoreSlim _handed = new(0);
    private readonly Thread _thread;
    // Usually one batch; two when the loop finished one itself (ClusterNode drains before an inline sync) and handed
    // over the next before this thread came to the first, which it then finds done.
    private readonly ConcurrentQueue<(Action Work, Action Completed)> _work = new();
    private volatile bool _stopping;

    public WalSyncThread(NodeLoop loop)
    {
        _loop = loop;
        _thread = new Thread(Run) { IsBackground = true, Name = "parley-wal-sync" };
        _thread.Start();
    }

    public void Start(Action work, Action completed)
    {
        _work.Enqueue((work, completed));
        _handed.Release();
    }

    /// <summary>Stops the thread after the batch it may be writing (the node loop has stopped).</summary>
    public void Dispose()
    {
        _stopping = true;
        _handed.Release();
        if (_thread.Join(TimeSpan.FromSeconds(10)))
        {
            _handed.Dispose(); // else a sync stuck in the kernel still holds the thread: it exits when it returns
        }
    }

    private void Run()
    {
        while (true)
        {
            _handed.Wait();
            if (_stopping)
            {
                return;
            }
            _work.TryDequeue(out var work);
            var (write, completed) = work;
            write(); // the batch's write and fdatasync, then the acknowledgements it releases; failures reach the loop by the completion
            _loop.PostInternal(_ => completed()); // dropped only when the loop has stopped
        }
    }
}
