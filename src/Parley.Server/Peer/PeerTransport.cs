using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Parley.Node;
using Parley.Raft;

namespace Parley.Server.Peer;

/// <summary>
/// The peer port: one persistent outgoing connection per peer (<see cref="PeerLink"/>) and a listener for theirs.
/// Incoming frames are decoded off the loop thread and handed to the node loop as one batch per socket read.
/// </summary>
internal sealed partial class PeerTransport : INodeTransport, IAsyncDisposable
{
    private readonly Dictionary<ulong, PeerLink> _links = [];
    private readonly List<TcpListener> _listeners = [];
    private readonly List<Task> _tasks = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly MemberDirectory _directory;
    private readonly ILogger _logger;
    private Func<Action<ClusterNode>, bool> _post = _ => false;

    public PeerTransport(ServerOptions options, MemberDirectory directory, ILogger logger)
    {
        _directory = directory;
        _logger = logger;
        var selfId = directory.SelfId;
        var clientUrls = options.AdvertiseClientUrls.Select(MemberIdentity.Normalize).ToArray();
        void WriteHello(IBufferWriter<byte> output) => PeerCodec.WriteHello(output, selfId, options.Name, clientUrls);
        foreach (var member in directory.Members)
        {
            if (member.Id != selfId)
            {
                _links[member.Id] = new PeerLink(member.Id, new Uri(member.PeerUrls[0]), WriteHello, Metrics, logger);
            }
        }
        foreach (var url in options.ListenPeerUrls)
        {
            _listeners.Add(new TcpListener(ListenAddress(url), url.Port));
        }
    }

    public PeerMetrics Metrics { get; } = new();

    public IReadOnlyCollection<PeerLink> Links => _links.Values;

    /// <summary>Binds the peer port(s); throws if one is taken, before anything else starts.</summary>
    public void Bind()
    {
        foreach (var listener in _listeners)
        {
            listener.Start(backlog: 128);
        }
    }

    public void Start(Func<Action<ClusterNode>, bool> post)
    {
        _post = post;
        foreach (var listener in _listeners)
        {
            _tasks.Add(AcceptAsync(listener, _stopping.Token));
        }
        foreach (var link in _links.Values)
        {
            _tasks.Add(link.RunAsync(_stopping.Token));
        }
    }

    public void Send(Message message)
    {
        if (_links.TryGetValue(message.To, out var link))
        {
            link.Enqueue(message);
        }
    }

    public void Forward(ulong leader, IReadOnlyList<byte[]> proposals)
    {
        if (_links.TryGetValue(leader, out var link))
        {
            link.Enqueue(proposals);
        }
    }

    public void SendLeaseQuery(ulong leader, LeaseQuery query)
    {
        if (_links.TryGetValue(leader, out var link))
        {
            link.Enqueue(query);
        }
    }

    public void SendLeaseAnswer(ulong member, LeaseAnswer answer)
    {
        if (_links.TryGetValue(member, out var link))
        {
            link.Enqueue(answer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var listener in _listeners)
        {
            listener.Stop();
        }
        try
        {
            await Task.WhenAll(_tasks).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OperationCanceledException or TimeoutException or SocketException or ObjectDisposedException)
        {
            // shutting down: connections are being torn down
        }
        _stopping.Dispose();
    }

    internal static IPAddress ListenAddress(Uri url) =>
        url.Host switch
        {
            "localhost" => IPAddress.Loopback,
            "0.0.0.0" or "*" or "[::]" => IPAddress.Any,
            _ => IPAddress.TryParse(url.Host.Trim('[', ']'), out var address) ? address
                : throw new ServerOptionsException($"listen URL {url} must name an IP address (or localhost)"),
        };

    private async Task AcceptAsync(TcpListener listener, CancellationToken cancellation)
    {
        var connections = new List<Task>();
        while (!cancellation.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(cancellation).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                break;
            }
            client.NoDelay = true;
            connections.RemoveAll(task => task.IsCompleted);
            connections.Add(ReceiveAsync(client, cancellation));
        }
        await Task.WhenAll(connections).ConfigureAwait(false);
    }

    private async Task ReceiveAsync(TcpClient client, CancellationToken cancellation)
    {
        using var _ = client;
        var reader = PipeReader.Create(client.GetStream());
        ulong from = 0;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellation).ConfigureAwait(false);
                var buffer = result.Buffer;
                var length = buffer.Length;
                List<Message>? messages = null;
                List<byte[][]>? forwards = null;
                List<object>? leases = null;
                while (TryReadFrame(ref buffer, out var type, out var payload))
                {
                    var span = payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();
                    switch (type)
                    {
                        case PeerFrameType.Hello:
                            var hello = PeerCodec.ReadHello(span);
                            from = hello.MemberId;
                            _directory.MarkStarted(hello.MemberId, hello.Name, hello.ClientUrls);
                            break;
                        case PeerFrameType.RaftMessage when from != 0:
                            (messages ??= []).Add(PeerCodec.ReadMessage(span));
                            break;
                        case PeerFrameType.Forward when from != 0:
                            (forwards ??= []).Add(PeerCodec.ReadForward(span));
                            break;
                        case PeerFrameType.LeaseQuery when from != 0:
                            (leases ??= []).Add(PeerCodec.ReadLeaseQuery(span));
                            break;
                        case PeerFrameType.LeaseAnswer when from != 0:
                            (leases ??= []).Add(PeerCodec.ReadLeaseAnswer(span));
                            break;
                        default:
                            throw new FormatException($"unexpected peer frame {type}");
                    }
                }
                Metrics.Received(from, length - buffer.Length);
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (messages is not null || forwards is not null || leases is not null)
                {
                    var sender = from;
                    _post(node => Deliver(node, sender, messages, forwards, leases));
                }
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception exception) when (exception is FormatException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            if (exception is FormatException)
            {
                LogBadFrame(_logger, client.Client.RemoteEndPoint?.ToString() ?? "?", exception.Message);
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static void Deliver(ClusterNode node, ulong from, List<Message>? messages, List<byte[][]>? forwards, List<object>? leases)
    {
        if (leases is not null)
        {
            foreach (var item in leases)
            {
                if (item is LeaseQuery query)
                {
                    node.ReceiveLeaseQuery(from, query);
                }
                else
                {
                    node.ReceiveLeaseAnswer((LeaseAnswer)item);
                }
            }
        }
        if (messages is not null)
        {
            foreach (var message in messages)
            {
                node.Step(message);
            }
        }
        if (forwards is not null)
        {
            foreach (var proposals in forwards)
            {
                node.ReceiveForwarded(proposals);
            }
        }
    }

    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out PeerFrameType type, out ReadOnlySequence<byte> payload)
    {
        type = default;
        payload = default;
        if (buffer.Length < PeerCodec.FrameHeaderBytes)
        {
            return false;
        }
        Span<byte> header = stackalloc byte[PeerCodec.FrameHeaderBytes];
        buffer.Slice(0, PeerCodec.FrameHeaderBytes).CopyTo(header);
        var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length < 1 || length > PeerCodec.FrameBytesMax)
        {
            throw new FormatException($"peer frame length {length} out of bounds");
        }
        if (buffer.Length < 4 + (long)length)
        {
            return false;
        }
        type = (PeerFrameType)header[4];
        payload = buffer.Slice(PeerCodec.FrameHeaderBytes, length - 1);
        buffer = buffer.Slice(4 + (long)length);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "closing peer connection from {Remote}: {Reason}")]
    private static partial void LogBadFrame(ILogger logger, string remote, string reason);
}
