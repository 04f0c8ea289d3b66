namespace Parley.Storage;

/// <summary>
/// A group of framed records taken from the log by <see cref="WriteAheadLog.BeginSync"/>, to be written and synced off
/// the caller's thread: <see cref="Run"/> does the I/O (any thread, once), then <see cref="WriteAheadLog.EndSync"/> (the
/// log's own thread) does the bookkeeping. Per segment it touches, one write and one fdatasync, in order: a segment is
/// synced before anything is written to the next one.
/// </summary>
public sealed class WalBatch
{
    private const int NotStarted = 0;
    private const int Running = 1;
    private const int Done = 2;

    private readonly List<(WalPendingChunk Chunk, IStorageFile File, string Path)> _writes;
    private readonly WalSyncTimer? _timer;
    private int _state;

    internal WalBatch(List<(WalPendingChunk Chunk, IStorageFile File, string Path)> writes, WalSyncTimer? timer)
    {
        _writes = writes;
        _timer = timer;
    }

    internal IReadOnlyList<(WalPendingChunk Chunk, IStorageFile File, string Path)> Writes => _writes;

    /// <summary>Set by <see cref="Run"/> when a write or fdatasync failed: the message and the exception.</summary>
    internal (string Message, IOException Exception)? Failure { get; private set; }

    internal bool Ended { get; set; }

    /// <summary>Whether <see cref="Run"/> wrote and synced the whole batch (false before, after a failure, or when it was dropped).</summary>
    public bool IsDurable { get; private set; }

    /// <summary>
    /// Writes and syncs the batch, unless another thread already is or did, in which case this waits for it to finish.
    /// Never throws for an I/O failure: <see cref="WriteAheadLog.EndSync"/> reports it.
    /// </summary>
    public void Run()
    {
        if (Interlocked.CompareExchange(ref _state, Running, NotStarted) != NotStarted)
        {
            lock (_writes)
            {
                while (_state != Done)
                {
                    Monitor.Wait(_writes);
                }
            }
            return;
        }
        try
        {
            WriteAndSync();
        }
        finally
        {
            lock (_writes)
            {
                _state = Done;
                Monitor.PulseAll(_writes);
            }
        }
    }

    /// <summary>Returns the chunks' pooled buffers (once the batch is ended or dropped).</summary>
    internal void ReleaseBuffers()
    {
        foreach (var (chunk, _, _) in _writes)
        {
            chunk.Dispose();
        }
    }

    /// <summary>Makes sure the batch is not written from now on: cancels it if it has not started, else waits for it.</summary>
    internal void CancelOrWait()
    {
        if (Interlocked.CompareExchange(ref _state, Done, NotStarted) != NotStarted)
        {
            Run();
        }
    }

    private void WriteAndSync()
    {
        foreach (var (chunk, file, path) in _writes)
        {
            long syncStarted = 0;
            try
            {
                file.Write(chunk.StartOffset, chunk.Buffer.AsSpan(0, chunk.Length));
                syncStarted = _timer?.Clock.GetTimestamp() ?? 0;
                file.Sync();
            }
            catch (IOException exception)
            {
                Failure = ($"WAL write or fdatasync of {path} failed: {exception.Message}", exception);
                return; // nothing after a failed write may reach the disk: a later segment's record would vouch for it
            }
            _timer?.Synced(_timer.Clock.GetElapsedTime(syncStarted), chunk.Length);
        }
        IsDurable = true;
    }
}
