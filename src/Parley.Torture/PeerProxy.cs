using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Parley.Server.Peer;

namespace Parley.Torture;

/// <summary>
/// A fault-injecting TCP proxy in front of one member's peer port. Every member advertises its proxy's URL, so all
/// Raft traffic to the member passes here. Parley's peer connections carry one direction each (but for the pongs that
/// answer round-trip pings, relayed back unchanged) and start with a
/// Hello frame naming the caller, so the proxy knows the link (caller → this member) and applies
/// <see cref="LinkFaults"/> per frame: a dropped frame is a lost message (Raft retransmits), a delayed one is
/// latency; frames are never reordered or cut, so the peer wire stays well-formed. A joining member's JoinQuery
/// (who is in the cluster?) and its answer follow the links between the joiner (known by its peer URL) and this member.
/// </summary>
internal sealed class PeerProxy : IAsyncDisposable
{
    private const int HeaderBytes = 5;
    private const int FrameBytesMax = 256 << 20;
    private const int QueuedFramesMax = 8_192;

    /// <summary>How long a closing connection waits for the member's last frames back to the caller.</summary>
    private static readonly TimeSpan ReplyDrainTime = TimeSpan.FromSeconds(1);

    private readonly int _memberIndex;
    private readonly int _targetPort;
    private readonly Func<string, int> _slotOf;
    private readonly LinkFaults _faults;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _connections = [];
    private readonly Lock _gate = new();
    private Task _accepting = Task.CompletedTask;

    /// <param name="slotOf">The member index of a name in a Hello frame or of a peer URL in a JoinQuery (-1 when unknown); members come and go.</param>
    public PeerProxy(int memberIndex, int listenPort, int targetPort, Func<string, int> slotOf, LinkFaults faults)
    {
        _memberIndex = memberIndex;
        _targetPort = targetPort;
        _slotOf = slotOf;
        _faults = faults;
        _listener = new TcpListener(IPAddress.Loopback, listenPort);
    }

    public void Start()
    {
        _listener.Start(backlog: 64);
        _accepting = AcceptAsync(_stopping.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        Task[] connections;
        lock (_gate)
        {
            connections = [.. _connections, _accepting];
        }
        try
        {
            await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OperationCanceledException or TimeoutException or SocketException or IOException or ObjectDisposedException)
        {
            // connections are being torn down
        }
        _stopping.Dispose();
    }

    private async Task AcceptAsync(CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(cancellation).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            lock (_gate)
            {
                _connections.RemoveAll(task => task.IsCompleted);
                _connections.Add(Task.Run(() => RelayAsync(client, cancellation), CancellationToken.None));
            }
        }
    }

    private async Task RelayAsync(TcpClient inbound, CancellationToken cancellation)
    {
        using var _ = inbound;
        using var outbound = new TcpClient { NoDelay = true };
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        inbound.NoDelay = true;
        try
        {
            var source = inbound.GetStream();
            var hello = await ReadFrameAsync(source, connection.Token).ConfigureAwait(false);
            if (hello is not null && hello[4] == (byte)PeerFrameType.JoinQuery)
            {
                await RelayJoinQueryAsync(source, hello, outbound, connection.Token).ConfigureAwait(false);
                return;
            }
            if (hello is null || hello[4] != (byte)PeerFrameType.Hello)
            {
                return;
            }
            var from = SenderIndex(hello);
            if (from < 0)
            {
                return;
            }
            await outbound.ConnectAsync(IPAddress.Loopback, _targetPort, connection.Token).ConfigureAwait(false);
            var target = outbound.GetStream();
            await target.WriteAsync(hello, connection.Token).ConfigureAwait(false);
            var queue = Channel.CreateBounded<(byte[] Frame, long ReleaseTimestamp)>(new BoundedChannelOptions(QueuedFramesMax)
            {
                FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true, SingleWriter = true,
            });
            var writing = WriteDelayedAsync(queue.Reader, target, connection);
            // Not cancelled with the forward direction: when the member writes its last words (the notice that the
            // caller was removed) and hangs up, the forward direction fails first, and the notice must still pass.
            var replies = RelayRepliesAsync(target, source, from, connection, cancellation);
            try
            {
                while (await ReadFrameAsync(source, connection.Token).ConfigureAwait(false) is { } frame)
                {
                    var (drop, delayMs) = _faults.Decide(from, _memberIndex);
                    if (!drop)
                    {
                        queue.Writer.TryWrite((frame, Stopwatch.GetTimestamp() + delayMs * Stopwatch.Frequency / 1000));
                    }
                }
            }
            finally
            {
                queue.Writer.TryComplete();
                await writing.ConfigureAwait(false);
                await Task.WhenAny(replies, Task.Delay(ReplyDrainTime, CancellationToken.None)).ConfigureAwait(false);
                await connection.CancelAsync().ConfigureAwait(false);
                outbound.Close(); // ends the replies if the member is still there (the caller hung up)
                await replies.ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or ObjectDisposedException or ChannelClosedException)
        {
            // either side went away (a member was killed, or the proxy is stopping): the caller reconnects
        }
    }

    /// <summary>
    /// Passes a joining member's query to the member and the answer back, unless the link is cut in that direction
    /// (the joiner is known by the peer URL it asks about): a member cut off from the others must not answer with
    /// a membership it may not have caught up with, just as it could not over a real network.
    /// </summary>
    private async Task RelayJoinQueryAsync(NetworkStream source, byte[] query, TcpClient outbound, CancellationToken cancellation)
    {
        var joiner = JoinerIndex(query);
        if (joiner >= 0 && _faults.Decide(joiner, _memberIndex).Drop)
        {
            return;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        await outbound.ConnectAsync(IPAddress.Loopback, _targetPort, timeout.Token).ConfigureAwait(false);
        var target = outbound.GetStream();
        await target.WriteAsync(query, timeout.Token).ConfigureAwait(false);
        while (await ReadFrameAsync(target, timeout.Token).ConfigureAwait(false) is { } answer)
        {
            if (joiner < 0 || !_faults.Decide(_memberIndex, joiner).Drop)
            {
                await source.WriteAsync(answer, timeout.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The member index of the joiner, by the first peer URL in its JoinQuery (read with the server's codec); -1 when unknown.</summary>
    private int JoinerIndex(byte[] query)
    {
        try
        {
            return PeerCodec.ReadJoinQuery(query.AsSpan(HeaderBytes)) is [var url, ..] ? _slotOf(url) : -1;
        }
        catch (FormatException)
        {
            return -1;
        }
    }

    private static async Task WriteDelayedAsync(ChannelReader<(byte[] Frame, long ReleaseTimestamp)> reader, NetworkStream target, CancellationTokenSource connection)
    {
        try
        {
            while (await reader.WaitToReadAsync(connection.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var item))
                {
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), item.ReleaseTimestamp);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, connection.Token).ConfigureAwait(false);
                    }
                    await target.WriteAsync(item.Frame, connection.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            await connection.CancelAsync().ConfigureAwait(false); // the target is gone: stop reading from the caller too
        }
    }

    /// <summary>
    /// Relays what the member sends back on the connection (pongs answering the caller's round-trip pings, the notice
    /// that the caller was removed) frame by frame, dropped when the reverse direction is partitioned or lossy (a
    /// member cut off from the cluster does not learn of its removal through the cut); not delayed, so measured round
    /// trips include the injected latency one way.
    /// </summary>
    private async Task RelayRepliesAsync(NetworkStream target, NetworkStream source, int from, CancellationTokenSource connection, CancellationToken cancellation)
    {
        try
        {
            while (await ReadFrameAsync(target, cancellation).ConfigureAwait(false) is { } frame)
            {
                if (!_faults.Decide(_memberIndex, from).Drop)
                {
                    await source.WriteAsync(frame, cancellation).ConfigureAwait(false);
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // either side went away
        }
        finally
        {
            await connection.CancelAsync().ConfigureAwait(false); // the member hung up: so does the caller's side
        }
    }

    /// <summary>Reads one whole frame (header included); null at a clean end of stream.</summary>
    private static async Task<byte[]?> ReadFrameAsync(NetworkStream stream, CancellationToken cancellation)
    {
        var header = new byte[HeaderBytes];
        var read = await stream.ReadAtLeastAsync(header, HeaderBytes, throwOnEndOfStream: false, cancellation).ConfigureAwait(false);
        if (read < HeaderBytes)
        {
            return null;
        }
        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length < 1 || length > FrameBytesMax)
        {
            throw new IOException($"peer frame of {length} bytes");
        }
        var frame = new byte[4 + length];
        header.CopyTo(frame, 0);
        await stream.ReadExactlyAsync(frame.AsMemory(HeaderBytes), cancellation).ConfigureAwait(false);
        return frame;
    }

    /// <summary>The member index of the Hello's sender, by the name in it (read with the server's own codec).</summary>
    private int SenderIndex(byte[] hello)
    {
        try
        {
            return _slotOf(PeerCodec.ReadHello(hello.AsSpan(HeaderBytes)).Name);
        }
        catch (FormatException)
        {
            return -1;
        }
    }
}
