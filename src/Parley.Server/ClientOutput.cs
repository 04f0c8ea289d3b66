using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Parley.Server;

/// <summary>
/// The output of a client's HTTP/2 connection: Kestrel writes its frames here, and a pump sends them on the connection's
/// own socket. Kestrel's socket transport hands every flush to a queue that a thread-pool work item runs, which is one
/// thread hop between an answer written and an answer sent. When the member is busy (its node loop's turns hand out
/// more than one answer, <see cref="NodeLoop.LastTurnAnswers"/>), the pump still runs as a thread-pool work item, so
/// what is written before it runs leaves in one send (a turn's answers to one connection). Otherwise it runs at once, on
/// the thread that flushed: a lone client's answer leaves from the thread that wrote it.
/// </summary>
internal static class ClientOutput
{
    // As Kestrel's own output (KestrelServerLimits.MaxResponseBufferSize): a writer this far ahead of the socket waits.
    private const long PauseWriterBytes = 64 * 1024;

    /// <summary>
    /// Where a pump runs: inline unless <paramref name="isBusy"/> says otherwise at the flush, else on one thread-pool
    /// work item that runs every pump due on this scheduler by then, in turn.
    /// </summary>
    public static PipeScheduler Scheduler(Func<bool> isBusy) => new LoadScheduler(isBusy);

    /// <summary>
    /// A member's schedulers for its client connections, handed out in turn: <paramref name="count"/> of them (one per
    /// core, as Kestrel's transport queues), so that a busy member's sends run on as many work items at once.
    /// </summary>
    public static Func<PipeScheduler> Schedulers(Func<bool> isBusy, int count)
    {
        var schedulers = Enumerable.Range(0, Math.Max(1, count)).Select(_ => Scheduler(isBusy)).ToArray();
        var next = 0;
        return () => schedulers[(int)((uint)Interlocked.Increment(ref next) % (uint)schedulers.Length)];
    }

    /// <summary>
    /// A writer for Kestrel whose bytes go out through <paramref name="socket"/>, the connection's own socket, pumped
    /// on <paramref name="scheduler"/> (<see cref="Scheduler"/>). The transport's output is left unused until the pump
    /// ends, then completed, so that the transport shuts the connection down after the last bytes.
    /// </summary>
    public static PipeWriter Start(Socket socket, PipeWriter transport, PipeScheduler scheduler)
    {
        var pipe = new Pipe(new PipeOptions(
            readerScheduler: scheduler,
            writerScheduler: PipeScheduler.ThreadPool, // a writer that waited for the socket goes on from the pool
            pauseWriterThreshold: PauseWriterBytes,
            resumeWriterThreshold: PauseWriterBytes / 2,
            useSynchronizationContext: false));
        _ = PumpAsync(pipe.Reader, socket, transport);
        return pipe.Writer;
    }

    /// <summary>
    /// Sends what Kestrel wrote until either side ends (a send that fits the socket's buffer completes on the calling
    /// thread). Kestrel completing its writer (the connection's end) completes the transport's output after the last
    /// bytes; a failed send (the client gone, the connection aborted) completes the reader with the error, so that
    /// Kestrel's next write fails and it ends the connection.
    /// </summary>
    private static async Task PumpAsync(PipeReader reader, Socket socket, PipeWriter transport)
    {
        Exception? error = null;
        List<ArraySegment<byte>>? segments = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (buffer.IsEmpty)
                {
                    // a flush with nothing new, or the end
                }
                else if (buffer.IsSingleSegment)
                {
                    await socket.SendAsync(buffer.First, SocketFlags.None).ConfigureAwait(false);
                }
                else
                {
                    await socket.SendAsync(Gather(buffer, segments ??= []), SocketFlags.None).ConfigureAwait(false); // one sendmsg
                }
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception exception)
        {
            error = exception; // Kestrel completed its writer with an error, or a send failed
        }
        await reader.CompleteAsync(error).ConfigureAwait(false);
        await transport.CompleteAsync(error).ConfigureAwait(false);
    }

    /// <summary>The segments of <paramref name="buffer"/> as arrays (the pipe's memory comes from the shared array pool).</summary>
    private static List<ArraySegment<byte>> Gather(ReadOnlySequence<byte> buffer, List<ArraySegment<byte>> segments)
    {
        segments.Clear();
        foreach (var memory in buffer)
        {
            segments.Add(MemoryMarshal.TryGetArray(memory, out var segment) ? segment : new ArraySegment<byte>(memory.ToArray()));
        }
        return segments;
    }

    /// <summary>
    /// Runs a pump inline unless the member is busy; then queues it, and one thread-pool work item runs every pump
    /// queued until it finds none (as Kestrel's own transport queue does), so that a turn's answers to many connections
    /// cost one hop, not one per connection.
    /// </summary>
    private sealed class LoadScheduler(Func<bool> isBusy) : PipeScheduler, IThreadPoolWorkItem
    {
        private readonly ConcurrentQueue<(Action<object?> Action, object? State)> _queue = new();
        private int _queued;

        public override void Schedule(Action<object?> action, object? state)
        {
            if (!isBusy())
            {
                action(state);
                return;
            }
            _queue.Enqueue((action, state));
            if (Interlocked.CompareExchange(ref _queued, 1, 0) == 0)
            {
                System.Threading.ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false); // not PipeScheduler.ThreadPool
            }
        }

        void IThreadPoolWorkItem.Execute()
        {
            while (true)
            {
                while (_queue.TryDequeue(out var item))
                {
                    item.Action(item.State);
                }
                Volatile.Write(ref _queued, 0);
                // A pump queued after the last dequeue and before the flag fell found it set and queued no work item.
                if (_queue.IsEmpty || Interlocked.Exchange(ref _queued, 1) == 1)
                {
                    return;
                }
            }
        }
    }
}
