using System.Buffers;
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
/// jitter.
/// </summary>
internal sealed partial class PeerLink
{
    public const int QueueItemsMax = 8_192;
    private const int BatchBytesMax = 4 << 20;
    private static readonly TimeSpan BackoffMin = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan BackoffMax = TimeSpan.FromSeconds(2);

    private readonly Channel<object> _queue = Channel.CreateBounded<object>(new BoundedChannelOptions(QueueItemsMax)
    {
        FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true, SingleWriter = true,
    });
    private readonly Action<IBufferWriter<byte>> _writeHello;
    private readonly ILogger _logger;
    private readonly PeerMetrics _metrics;
    private bool _wasConnected;

    public PeerLink(ulong peerId, Uri url, Action<IBufferWriter<byte>> writeHello, PeerMetrics metrics, ILogger logger)
    {
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

    public async Task RunAsync(CancellationToken cancellation)
    {
        var backoff = BackoffMin;
        while (!cancellation.IsCancellationRequested)
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
                if (!_wasConnected)
                {
                    LogConnected(_logger, PeerId, Url);
                    _wasConnected = true;
                }
                backoff = BackoffMin;
                await PumpAsync(stream, buffer, cancellation).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception) when (exception is SocketException or IOException or ObjectDisposedException)
            {
                if (_wasConnected)
                {
                    LogDisconnected(_logger, PeerId, Url, exception.Message);
                    _wasConnected = false;
                }
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

    private async Task PumpAsync(NetworkStream stream, ArrayBufferWriter<byte> buffer, CancellationToken cancellation)
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync(cancellation).ConfigureAwait(false))
        {
            while (buffer.WrittenCount < BatchBytesMax && reader.TryRead(out var item))
            {
                switch (item)
                {
                    case Message { Snapshot.Data.IsEmpty: false } message:
                        _metrics.Sent(PeerId, await WriteSnapshotAsync(stream, buffer, message, cancellation).ConfigureAwait(false));
                        break;
                    case Message message:
                        PeerCodec.WriteFrame(buffer, PeerFrameType.RaftMessage, output => PeerCodec.WriteMessage(output, message));
                        break;
                    case IReadOnlyList<byte[]> proposals:
                        PeerCodec.WriteFrame(buffer, PeerFrameType.Forward, output => PeerCodec.WriteForward(output, proposals));
                        break;
                    case LeaseQuery query:
                        PeerCodec.WriteFrame(buffer, PeerFrameType.LeaseQuery, output => PeerCodec.WriteLeaseQuery(output, query));
                        break;
                    case LeaseAnswer answer:
                        PeerCodec.WriteFrame(buffer, PeerFrameType.LeaseAnswer, output => PeerCodec.WriteLeaseAnswer(output, answer));
                        break;
                }
            }
            await stream.WriteAsync(buffer.WrittenMemory, cancellation).ConfigureAwait(false);
            _metrics.Sent(PeerId, buffer.WrittenCount);
            buffer.ResetWrittenCount();
        }
    }

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
        PeerCodec.WriteFrame(buffer, PeerFrameType.RaftMessage, output => PeerCodec.WriteMessage(output, message, snapshotDataInChunks: true));
        return written;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {PeerId:x} connected at {Url}")]
    private static partial void LogConnected(ILogger logger, ulong peerId, Uri url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer {PeerId:x} at {Url} lost: {Reason}; reconnecting with backoff")]
    private static partial void LogDisconnected(ILogger logger, ulong peerId, Uri url, string reason);
}
