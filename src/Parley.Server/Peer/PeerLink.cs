using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Parley.Node;
using Parley.Raft;

namespace Parley.Server.Peer;

/// <summary>
/// The outgoing half of the connection to one peer: a bounded queue that the node loop fills without blocking
/// (a full queue drops; Raft retransmits), and a writer that connects, says hello, and writes everything queued
/// as one batch per socket write. On failure it drops what is queued and reconnects with exponential backoff and
/// jitter. Every few seconds it sends a ping; the peer echoes it back on the same connection (the only traffic in that
/// direction), which gives the round-trip time and notices a peer that went away. A link to a member that
/// left the cluster is drained (<see cref="Drain"/>): what is queued still goes out.
/// </summary>
internal sealed partial class PeerLink
{
    public const int QueueItemsMax = 8_192;
    private const int BatchBytesMax = 4 << 20;
    private static readonly TimeSpan BackoffMin = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan BackoffMax = TimeSpan.FromSeconds(2);

    /// <summary>How often a connected link measures its round trip (etcd_network_peer_round_trip_time_seconds).</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(4);

    private const int PongFrameBytes = PeerCodec.FrameHeaderBytes + 8;

    // Synchronous continuations: when the writer is idle, the thread that queues (the node loop, once per turn) runs
    // it and writes to the socket itself, instead of waking a pool thread to do it (a hand-off on every message's path).
    // A busy writer picks up what was queued when its write completes.
    private readonly Channel<object> _queue = Channel.CreateBounded<object>(new BoundedChannelOptions(QueueItemsMax)
    {
        FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true, SingleWriter = false, // the node loop and the prober
        AllowSynchronousContinuations = true,
    });
    // What the node loop queued during its current turn (loop thread only), handed over in one piece by Flush.
    private List<object>? _staged;
    private readonly Action<IBufferWriter<byte>> _writeHello;
    private readonly ILogger _logger;
    private readonly Action _removed;
    private readonly PeerMetrics _metrics;
    private bool _wasConnected;
    // The peer's URL answered as a member of another cluster (logged once; cleared by the next pong from our peer).
    private bool _mismatchSaid;
    // The peer said this member was removed from the cluster: the member is stopping, and reconnecting only repeats it.
    private volatile bool _toldRemoved;

    public PeerLink(ulong peerId, Uri url, Action<IBufferWriter<byte>> writeHello, PeerMetrics metrics, ILogger logger, Action? removed = null)
    {
        _removed = removed ?? (() => { });
        PeerId = peerId;
        Url = url;
        _writeHello = writeHello;
        _metrics = metrics;
        _logger = logger;
    }

    public ulong PeerId { get; }

    public Uri Url { get; }

    public bool IsConnected { get; private set; }

    public void Enqueue(object item)
    {
        if (!_queue.Writer.TryWrite(item))
        {
            _metrics.SendFailed(PeerId);
        }
    }

    /// <summary>Node loop only: holds <paramref name="item"/> until <see cref="Flush"/>; true for the turn's first.</summary>
    public bool Stage(object item)
    {
        var first = _staged is null;
        (_staged ??= []).Add(item);
        return first;
    }

    /// <summary>
    /// Node loop only, at the end of its turn: queues what was staged as one batch (one socket write, and when the writer
    /// is idle, written on this thread at once).
    /// </summary>
    public void Flush()
    {
        if (_staged is { } staged)
        {
            _staged = null;
            Enqueue(staged.Count == 1 ? staged[0] : new StagedBatch(staged));
        }
    }

    /// <summary>
    /// The peer left the membership: nothing more is queued, and the link ends once it has written what is queued (the
    /// last messages tell the removed member that its removal committed, which is how it learns to stop).
    /// </summary>
    public void Drain()
    {
        Flush(); // the node loop's thread: what this turn sent to the peer goes out too
        _queue.Writer.TryComplete();
    }

    public async Task RunAsync(CancellationToken cancellation)
    {
        var backoff = BackoffMin;
        while (!cancellation.IsCancellationRequested && !_queue.Reader.Completion.IsCompleted && !_toldRemoved)
        {
            try
            {
                using var client = new TcpClient { NoDelay = true };
                await client.ConnectAsync(Url.Host, Url.Port, cancellation).ConfigureAwait(false);
                await using var stream = client.GetStream();
                var buffer = new ArrayBufferWriter<byte>(64 * 1024);
                PeerCodec.WriteFrame(buffer, PeerFrameType.Hello, _writeHello);
                await stream.WriteAsync(buffer.WrittenMemory, cancellation).ConfigureAwait(false);
                buffer.ResetWrittenCount();
                IsConnected = true;
                _metrics.Connected(PeerId, true);
                if (!_wasConnected && !_mismatchSaid)
                {
                    LogConnected(_logger, PeerId, Url);
                    _wasConnected = true;
                }
                backoff = BackoffMin;
                await RunConnectedAsync(stream, buffer, cancellation).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception) when (exception is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
            {
                if (_wasConnected)
                {
                    var reason = exception is OperationCanceledException ? "the peer closed the connection" : exception.Message;
                    LogDisconnected(_logger, PeerId, Url, reason);
                    _wasConnected = false;
                }
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // A bug in writing or reading frames: said loudly, then the link starts over like after a lost
                // connection (Raft tolerates the lost messages) instead of ending for good and stalling replication.
                LogLinkFailed(_logger, PeerId, Url, exception);
                _wasConnected = false;
            }
            IsConnected = false;
            _metrics.Connected(PeerId, false);
            while (_queue.Reader.TryRead(out _))
            {
                _metrics.SendFailed(PeerId);
            }
            var jitter = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * backoff.TotalMilliseconds);
            try
            {
                await Task.Delay(backoff + jitter, cancellation).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            backoff = TimeSpan.FromTicks(Math.Min(BackoffMax.Ticks, backoff.Ticks * 2));
        }
    }

    /// <summary>
    /// Writes what is queued, probes the round trip every <see cref="ProbeInterval"/> (and once at once), and reads the
    /// pongs that come back. The connection ends when a write fails or the peer closes its side (the pong reader sees
    /// the end of the stream and cancels the writer), so a dead peer is noticed without waiting for a write to fail.
    /// </summary>
    private async Task RunConnectedAsync(NetworkStream stream, ArrayBufferWriter<byte> buffer, CancellationToken cancellation)
    {
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var pongs = ReadPongsAsync(stream, connection);
        var probes = ProbeAsync(connection.Token);
        try
        {
            await PumpAsync(stream, buffer, connection.Token).ConfigureAwait(false);
        }
        finally
        {
            await connection.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(pongs, probes).ConfigureAwait(false);
        }
    }

    private async Task ProbeAsync(CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(ProbeInterval);
        try
        {
            do
            {
                Enqueue(PeerProbe.Instance);
            }
            while (await timer.WaitForNextTickAsync(cancellation).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // the connection ended
        }
    }

    /// <summary>Reads the pongs the peer sends back (the only frames on this side of the connection).</summary>
    private async Task ReadPongsAsync(NetworkStream stream, CancellationTokenSource connection)
    {
        var frame = new byte[PongFrameBytes];
        try
        {
            while (true)
            {
                await stream.ReadExactlyAsync(frame, connection.Token).ConfigureAwait(false);
                var length = BinaryPrimitives.ReadInt32LittleEndian(frame);
                if (length == PongFrameBytes - 4 && frame[4] == (byte)PeerFrameType.Removed)
                {
                    _toldRemoved = true;
                    _removed(); // the peer refuses us: this member was removed from the cluster
                    return;
                }
                if (length == PongFrameBytes - 4 && frame[4] == (byte)PeerFrameType.ClusterMismatch)
                {
                    // Not ours: whoever answers at that URL belongs to another cluster. Said once until it changes;
                    // the link keeps retrying (with back-off) in case the address is handed back to our member.
                    if (!_mismatchSaid)
                    {
                        LogClusterMismatch(_logger, PeerId, Url, (ulong)PeerCodec.ReadProbe(frame.AsSpan(PeerCodec.FrameHeaderBytes)));
                        _mismatchSaid = true;
                    }
                    return;
                }
                _mismatchSaid = false;
                if (length != PongFrameBytes - 4 || frame[4] != (byte)PeerFrameType.Pong)
                {
                    throw new FormatException($"unexpected frame (type {frame[4]}, length {length}) from peer {PeerId:x}");
                }
                var sent = PeerCodec.ReadProbe(frame.AsSpan(PeerCodec.FrameHeaderBytes));
                var now = Stopwatch.GetTimestamp();
                if (sent > 0 && sent <= now)
                {
                    _metrics.RoundTrip(PeerId, Stopwatch.GetElapsedTime(sent, now));
                }
            }
        }
        catch (Exception exception) when (exception is IOException or SocketException or OperationCanceledException or ObjectDisposedException or FormatException)
        {
            // end of stream, a broken socket or a confused peer: the connection is over either way
        }
        finally
        {
            await connection.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task PumpAsync(NetworkStream stream, ArrayBufferWriter<byte> buffer, CancellationToken cancellation)
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync(cancellation).ConfigureAwait(false))
        {
            while (buffer.WrittenCount < BatchBytesMax && reader.TryRead(out var item))
            {
                if (item is StagedBatch batch)
                {
                    foreach (var staged in batch.Items)
                    {
                        await WriteItemAsync(stream, buffer, staged, cancellation).ConfigureAwait(false);
                    }
                }
                else
                {
                    await WriteItemAsync(stream, buffer, item, cancellation).ConfigureAwait(false);
                }
            }
            await stream.WriteAsync(buffer.WrittenMemory, cancellation).ConfigureAwait(false);
            _metrics.Sent(PeerId, buffer.WrittenCount);
            buffer.ResetWrittenCount();
        }
    }

    private async ValueTask WriteItemAsync(NetworkStream stream, ArrayBufferWriter<byte> buffer, object item, CancellationToken cancellation)
    {
        switch (item)
        {
            case Message { Snapshot.Data.IsEmpty: false } message:
                await Task.Yield(); // off the node loop's thread (it may have run this writer): a snapshot streams for long
                if (!IsReadable(message.Snapshot!))
                {
                    // Nothing of it has been written, so the connection stays usable. The follower's progress waits for
                    // this snapshot until Raft gives it up as lost and sends the newest one.
                    LogSnapshotSuperseded(_logger, PeerId, message.Snapshot!.Metadata.Index);
                    break;
                }
                _metrics.Sent(PeerId, await WriteSnapshotAsync(stream, buffer, message, cancellation).ConfigureAwait(false));
                break;
            case Message message:
                PeerCodec.WriteFrame(buffer, PeerFrameType.RaftMessage, message, static (output, message) => PeerCodec.WriteMessage(output, message));
                break;
            case IReadOnlyList<byte[]> proposals:
                PeerCodec.WriteFrame(buffer, PeerFrameType.Forward, proposals, PeerCodec.WriteForward);
                break;
            case LeaseQuery query:
                PeerCodec.WriteFrame(buffer, PeerFrameType.LeaseQuery, query, PeerCodec.WriteLeaseQuery);
                break;
            case LeaseAnswer answer:
                PeerCodec.WriteFrame(buffer, PeerFrameType.LeaseAnswer, answer, PeerCodec.WriteLeaseAnswer);
                break;
            case ForwardAnswer answer:
                PeerCodec.WriteFrame(buffer, PeerFrameType.ForwardAnswer, answer, PeerCodec.WriteForwardAnswer);
                break;
            case PeerProbe:
                PeerCodec.WriteFrame(buffer, PeerFrameType.Ping, Stopwatch.GetTimestamp(), PeerCodec.WriteProbe);
                break;
        }
    }

    /// <summary>
    /// Loads a snapshot's data if it still sits in its file (<c>FileBackedSnapshotData</c>): false when the file is gone,
    /// pruned after newer snapshots were taken while this one waited in the queue.
    /// </summary>
    internal static bool IsReadable(Snapshot snapshot)
    {
        try
        {
            _ = snapshot.Data.Span;
            return true;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The items the node loop queued in one turn.</summary>
    private sealed record StagedBatch(List<object> Items);

    /// <summary>
    /// Streams a snapshot message: what is buffered first, then its data in chunk frames written straight from the
    /// snapshot's memory (no copy of the whole), then the message itself. Other messages wait behind it.
    /// </summary>
    /// <returns>the bytes written to the stream here (the message frame stays in <paramref name="buffer"/>)</returns>
    internal static async Task<long> WriteSnapshotAsync(Stream stream, ArrayBufferWriter<byte> buffer, Message message, CancellationToken cancellation)
    {
        var data = message.Snapshot!.Data;
        long written = 0;
        for (var offset = 0; offset < data.Length; offset += PeerCodec.SnapshotChunkBytes)
        {
            var length = Math.Min(PeerCodec.SnapshotChunkBytes, data.Length - offset);
            PeerCodec.WriteSnapshotChunkHeader(buffer, data.Length, offset, length);
            await stream.WriteAsync(buffer.WrittenMemory, cancellation).ConfigureAwait(false);
            written += buffer.WrittenCount + length;
            buffer.ResetWrittenCount();
            await stream.WriteAsync(data.Slice(offset, length), cancellation).ConfigureAwait(false);
        }
        PeerCodec.WriteFrame(buffer, PeerFrameType.RaftMessage, message, static (output, message) => PeerCodec.WriteMessage(output, message, snapshotDataInChunks: true));
        return written;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer {PeerId:x} at {Url} refused the connection: it is a member of cluster {TheirCluster:x}, not of this one (a reused address or a stale member?); retrying with backoff")]
    private static partial void LogClusterMismatch(ILogger logger, ulong peerId, Uri url, ulong theirCluster);

    [LoggerMessage(Level = LogLevel.Warning, Message = "snapshot at index {Index} for peer {PeerId:x} was replaced by a newer one before it could be sent; the peer will be sent the newest")]
    private static partial void LogSnapshotSuperseded(ILogger logger, ulong peerId, ulong index);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {PeerId:x} connected at {Url}")]
    private static partial void LogConnected(ILogger logger, ulong peerId, Uri url);

    [LoggerMessage(Level = LogLevel.Error, Message = "peer {PeerId:x} at {Url}: the link failed unexpectedly; reconnecting with backoff")]
    private static partial void LogLinkFailed(ILogger logger, ulong peerId, Uri url, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer {PeerId:x} at {Url} lost: {Reason}; reconnecting with backoff")]
    private static partial void LogDisconnected(ILogger logger, ulong peerId, Uri url, string reason);
}
