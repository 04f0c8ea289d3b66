using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Parley.Node;
using Parley.Raft;

namespace Parley.Server.Peer;

/// <summary>
/// The peer port: one persistent outgoing connection per peer (<see cref="PeerLink"/>) and a listener for theirs.
/// Incoming frames are decoded off the loop thread, by a thread per incoming connection, and handed to the node loop as
/// one batch per socket read.
/// </summary>
internal sealed partial class PeerTransport : INodeTransport, IAsyncDisposable
{
    // A removed member's link sends what is queued for this long at most, then is cut.
    private static readonly TimeSpan RemovedLinkDrainTime = TimeSpan.FromSeconds(5);

    // 64 KiB to start with: a busy leader's appends carry several KiB of entries; a larger frame grows the buffer.
    private const int InboundBufferBytes = 64 * 1024;

    // Open incoming connections at most: one per other member, and short-lived ones from joining members.
    private const int InboundConnectionsMax = 256;

    private readonly ConcurrentDictionary<ulong, (PeerLink Link, CancellationTokenSource Stop)> _links = new();
    // The links that the node loop's current turn staged messages for (LoopTurn).
    private readonly List<PeerLink> _staged = [];
    private readonly List<TcpListener> _listeners = [];
    private readonly List<Task> _tasks = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly MemberDirectory _directory;
    private readonly ILogger _logger;
    private readonly Action<IBufferWriter<byte>> _writeHello;
    private readonly Lock _linksLock = new();
    // Links to members that are not in our membership yet (under _linksLock): we are behind, they joined while we were
    // down and one of them may lead. Raft answers (votes, append acknowledgements) must reach it, or we never catch up
    // to the entry that adds it (etcd adds such a "remote" from the sender's peer URLs in the same way).
    private readonly HashSet<ulong> _remotes = [];
    private Func<Action<ClusterNode>, bool> _post = _ => false;
    // The open incoming connection of each member that said Hello: a newer one from the same member closes the older,
    // which its link has given up on (a reader thread blocked on it would otherwise wait as long as the socket lives).
    private readonly ConcurrentDictionary<ulong, TcpClient> _inbound = new();
    private bool _started;

    public PeerTransport(ServerOptions options, MemberDirectory directory, ILogger logger)
    {
        _directory = directory;
        _logger = logger;
        var selfId = directory.SelfId;
        var clientUrls = options.AdvertiseClientUrls.Select(MemberIdentity.Normalize).ToArray();
        var clusterId = directory.ClusterId;
        var peerUrls = options.InitialAdvertisePeerUrls.Select(MemberIdentity.Normalize).ToArray();
        _writeHello = output => PeerCodec.WriteHello(output, clusterId, selfId, options.Name, clientUrls, peerUrls);
        UpdateMembers(directory.Members);
        foreach (var url in options.ListenPeerUrls)
        {
            _listeners.Add(new TcpListener(ListenAddress(url), url.Port));
        }
    }

    public PeerMetrics Metrics { get; } = new();

    /// <summary>A peer said this member was removed from the cluster (it restarted after missing its own removal).</summary>
    public Action? RemovedFromCluster { get; set; }

    public IEnumerable<PeerLink> Links => _links.Values.Select(entry => entry.Link);

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
        lock (_linksLock)
        {
            _started = true;
            foreach (var (link, stop) in _links.Values)
            {
                _tasks.Add(link.RunAsync(stop.Token));
            }
        }
    }

    /// <summary>
    /// Keeps one link per other member: opens links to members that joined (or moved to other peer URLs), closes links
    /// to members that left. Called whenever the replicated membership changes.
    /// </summary>
    public void UpdateMembers(IReadOnlyList<MemberDirectory.MemberInfo> members)
    {
        lock (_linksLock)
        {
            foreach (var member in members)
            {
                if (member.Id == _directory.SelfId || member.PeerUrls.Length == 0)
                {
                    continue;
                }
                _remotes.Remove(member.Id); // a member now
                var url = new Uri(member.PeerUrls[0]);
                if (_links.TryGetValue(member.Id, out var existing))
                {
                    if (existing.Link.Url == url)
                    {
                        continue;
                    }
                    existing.Stop.Cancel();
                }
                StartLink(member.Id, url);
            }
            foreach (var id in _links.Keys)
            {
                var keptAsRemote = _remotes.Contains(id) && !_directory.IsRemoved(id);
                if (!keptAsRemote && !members.Any(member => member.Id == id) && _links.TryRemove(id, out var gone))
                {
                    _remotes.Remove(id);
                    gone.Link.Drain();
                    gone.Stop.CancelAfter(RemovedLinkDrainTime);
                }
            }
        }
    }

    /// <summary>
    /// A member of our cluster that is not in our membership said hello: it joined while we were down (we are behind
    /// and it may lead now). Opens a link to its peer URL so that what we send it arrives; the link becomes an ordinary
    /// member link when we apply the entry that adds it, and goes when we learn that it was removed.
    /// </summary>
    private void AddRemote(PeerHello hello)
    {
        if (hello.PeerUrls.Length == 0 || !Uri.TryCreate(hello.PeerUrls[0], UriKind.Absolute, out var url))
        {
            return;
        }
        lock (_linksLock)
        {
            if (hello.MemberId == _directory.SelfId || _links.ContainsKey(hello.MemberId) || _directory.IsRemoved(hello.MemberId))
            {
                return;
            }
            LogRemoteAdded(_logger, hello.MemberId, hello.Name, url);
            _remotes.Add(hello.MemberId);
            StartLink(hello.MemberId, url);
        }
    }

    private void StartLink(ulong id, Uri url)
    {
        var link = new PeerLink(id, url, _writeHello, Metrics, _logger, () => RemovedFromCluster?.Invoke());
        var stop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        _links[id] = (link, stop);
        if (_started)
        {
            _tasks.RemoveAll(task => task.IsCompleted);
            _tasks.Add(link.RunAsync(stop.Token));
        }
    }

    /// <summary>
    /// Asks the members at <paramref name="peerUrls"/> (in turn, until one answers) for the cluster id and membership:
    /// how a member started with --initial-cluster-state existing learns the id MemberAdd gave it.
    /// </summary>
    public static async Task<(ulong ClusterId, MemberDirectory.MemberInfo[] Members)> AskClusterAsync(
        IReadOnlyList<Uri> peerUrls, IReadOnlyList<string> ownPeerUrls, TimeSpan timeout, CancellationToken cancellation)
    {
        var started = Stopwatch.GetTimestamp(); // monotonic: a wall-clock jump does not end the wait early or late
        var failures = new List<string>();
        while (true)
        {
            foreach (var url in peerUrls)
            {
                try
                {
                    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                    attempt.CancelAfter(TimeSpan.FromSeconds(2));
                    using var client = new TcpClient { NoDelay = true };
                    await client.ConnectAsync(url.Host, url.Port, attempt.Token).ConfigureAwait(false);
                    await using var stream = client.GetStream();
                    var buffer = new ArrayBufferWriter<byte>(256);
                    PeerCodec.WriteFrame(buffer, PeerFrameType.JoinQuery, output => PeerCodec.WriteJoinQuery(output, ownPeerUrls));
                    await stream.WriteAsync(buffer.WrittenMemory, attempt.Token).ConfigureAwait(false);
                    var reader = PipeReader.Create(stream);
                    while (true)
                    {
                        var result = await reader.ReadAsync(attempt.Token).ConfigureAwait(false);
                        var received = result.Buffer;
                        if (TryReadFrame(ref received, out var type, out var payload) && type == PeerFrameType.JoinAnswer)
                        {
                            var answer = PeerCodec.ReadJoinAnswer(payload.ToArray());
                            await reader.CompleteAsync().ConfigureAwait(false);
                            return answer;
                        }
                        if (result.IsCompleted)
                        {
                            throw new IOException("connection closed without an answer");
                        }
                        reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                    }
                }
                catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException or FormatException && !cancellation.IsCancellationRequested)
                {
                    failures.Add($"{MemberIdentity.Normalize(url)}: {exception.Message}");
                }
            }
            if (Stopwatch.GetElapsedTime(started) >= timeout)
            {
                throw new ServerOptionsException(
                    "--initial-cluster-state existing: no member of the cluster answered at its peer URL (" +
                    string.Join("; ", failures.TakeLast(peerUrls.Count)) + "); start this member once the cluster runs");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellation).ConfigureAwait(false);
        }
    }

    public void Send(Message message) => Queue(message.To, message);

    /// <summary>
    /// Called by the node during a node loop's turn (before it syncs, after, and at the end of the turn): what the turn
    /// sent since goes to each link in one piece. Sends made outside a turn (<see cref="LoopTurn"/>) are queued at once.
    /// </summary>
    public void Flush()
    {
        foreach (var link in _staged)
        {
            link.Flush();
        }
        _staged.Clear();
    }

    private void Queue(ulong to, object item)
    {
        if (!_links.TryGetValue(to, out var entry))
        {
            return;
        }
        if (!LoopTurn.IsActive)
        {
            entry.Link.Enqueue(item);
        }
        else if (entry.Link.Stage(item))
        {
            _staged.Add(entry.Link);
        }
    }

    public void Forward(ulong leader, IReadOnlyList<byte[]> proposals) => Queue(leader, proposals);

    public void SendForwardAnswer(ulong member, ForwardAnswer answer) => Queue(member, answer);

    public void SendLeaseQuery(ulong leader, LeaseQuery query) => Queue(leader, query);

    public void SendLeaseAnswer(ulong member, LeaseAnswer answer) => Queue(member, answer);

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
            // A peer that vanishes without closing (a partition, a machine gone) is found out within about 16 s.
            client.Client.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            client.Client.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 10);
            client.Client.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 2);
            client.Client.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
            connections.RemoveAll(task => task.IsCompleted);
            if (connections.Count >= InboundConnectionsMax)
            {
                // Each connection has a thread: a flood of idle connections to the peer port must not make thousands.
                LogTooManyConnections(_logger, InboundConnectionsMax, SafeRemoteEndPoint(client.Client));
                client.Dispose();
                continue;
            }
            connections.Add(StartReceiving(client, cancellation));
        }
        await Task.WhenAll(connections).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads one incoming connection on a thread of its own, with blocking receives: the kernel wakes that thread when
    /// bytes arrive, and it decodes them and posts them to the node loop. An asynchronous read took two wake-ups per
    /// read (the runtime's socket event thread, then a thread-pool worker that ran the decoding), one more hop on each
    /// leg of a put (an append reaching a follower, its acknowledgement reaching the leader). The task completes when
    /// the connection ends.
    /// </summary>
    private Task StartReceiving(TcpClient client, CancellationToken cancellation)
    {
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Receive(client, cancellation);
            }
            catch (Exception exception)
            {
                // Not one of the connection's expected ends (those are handled in Receive): a decoding bug, say. The
                // connection is dropped, as a faulted read task dropped it before; the member goes on.
                LogReaderFailed(_logger, exception);
            }
            finally
            {
                ended.SetResult();
            }
        }, maxStackSize: 256 * 1024)
        {
            IsBackground = true,
            Name = "parley-peer-in",
        };
        thread.Start();
        return ended.Task;
    }

    private void Receive(TcpClient client, CancellationToken cancellation)
    {
        using var _ = client;
        // Stopping closes the socket, which ends a blocked receive.
        using var stop = cancellation.Register(static state => ((TcpClient)state!).Dispose(), client);
        var socket = client.Client;
        var input = new InboundBuffer(InboundBufferBytes);
        ulong from = 0;
        var snapshotChunks = new SnapshotAssembler();
        Func<byte[]> takeSnapshot = snapshotChunks.Take; // one delegate per connection, not one per message read
        try
        {
            while (input.Receive(socket))
            {
                var buffer = input.Unread;
                var length = buffer.Length;
                List<Message>? messages = null;
                List<byte[][]>? forwards = null;
                List<object>? exchanges = null;
                List<long>? pings = null;
                while (TryReadFrame(ref buffer, out var type, out var payload))
                {
                    if (type == PeerFrameType.SnapshotChunk && from != 0)
                    {
                        snapshotChunks.Accept(payload); // copied once, into the snapshot's own buffer
                        continue;
                    }
                    var span = payload.FirstSpan; // one array: always a single segment
                    switch (type)
                    {
                        case PeerFrameType.Hello:
                            var hello = PeerCodec.ReadHello(span);
                            if (hello.ClusterId != _directory.ClusterId)
                            {
                                LogOtherClusterRefused(_logger, hello.MemberId, hello.Name, hello.ClusterId, _directory.ClusterId);
                                SendNotice(socket, PeerFrameType.ClusterMismatch, _directory.ClusterId);
                                return;
                            }
                            if (_directory.IsRemoved(hello.MemberId))
                            {
                                LogRemovedMemberRefused(_logger, hello.MemberId, hello.Name);
                                SendNotice(socket, PeerFrameType.Removed, hello.MemberId);
                                return;
                            }
                            from = hello.MemberId;
                            _inbound.AddOrUpdate(from, client, (_, older) =>
                            {
                                older.Dispose(); // ends the older connection's blocked receive
                                return client;
                            });
                            _directory.MarkStarted(hello.MemberId, hello.Name, hello.ClientUrls);
                            if (!_directory.IsMember(hello.MemberId))
                            {
                                AddRemote(hello);
                            }
                            break;
                        case PeerFrameType.JoinQuery when from == 0:
                            var asking = PeerCodec.ReadJoinQuery(span);
                            LogJoinQuery(_logger, string.Join(",", asking));
                            var answer = new ArrayBufferWriter<byte>(512);
                            PeerCodec.WriteFrame(answer, PeerFrameType.JoinAnswer, output => PeerCodec.WriteJoinAnswer(output, _directory.ClusterId, _directory.Members));
                            socket.Send(answer.WrittenSpan);
                            return;
                        case PeerFrameType.RaftMessage when from != 0:
                            (messages ??= []).Add(PeerCodec.ReadMessage(span, takeSnapshot));
                            break;

                        case PeerFrameType.Forward when from != 0:
                            (forwards ??= []).Add(PeerCodec.ReadForward(span));
                            break;
                        case PeerFrameType.LeaseQuery when from != 0:
                            (exchanges ??= []).Add(PeerCodec.ReadLeaseQuery(span));
                            break;
                        case PeerFrameType.LeaseAnswer when from != 0:
                            (exchanges ??= []).Add(PeerCodec.ReadLeaseAnswer(span));
                            break;
                        case PeerFrameType.ForwardAnswer when from != 0:
                            (exchanges ??= []).Add(PeerCodec.ReadForwardAnswer(span));
                            break;
                        case PeerFrameType.Ping when from != 0:
                            (pings ??= []).Add(PeerCodec.ReadProbe(span));
                            break;
                        default:
                            throw new FormatException($"unexpected peer frame {type}");
                    }
                }
                Metrics.Received(from, length - buffer.Length);
                input.Consume(length - buffer.Length);
                if (from != 0 && _directory.IsRemoved(from))
                {
                    // Removed while connected: its removal applied here after its Hello. A removed leader that handed
                    // over may never hear a commit past its removal from the new leader (which stops sending to it once
                    // it applies the removal), and it sends nothing but pings: this answer is how it learns to stop.
                    LogConnectedMemberRemoved(_logger, from);
                    SendNotice(socket, PeerFrameType.Removed, from);
                    return;
                }
                if (pings is not null)
                {
                    AnswerPings(socket, pings);
                }
                if (messages is not null || forwards is not null || exchanges is not null)
                {
                    var sender = from;
                    _post(node => Deliver(node, sender, messages, forwards, exchanges));
                }
            }
        }
        catch (Exception exception) when (exception is FormatException or IOException or SocketException or ObjectDisposedException)
        {
            if (exception is FormatException)
            {
                LogBadFrame(_logger, SafeRemoteEndPoint(socket), exception.Message);
            }
            var replaced = from != 0 && _inbound.TryGetValue(from, out var current) && current != client;
            if (from != 0 && !cancellation.IsCancellationRequested && !replaced && exception is FormatException or IOException or SocketException)
            {
                Metrics.ReceiveFailed(from);
            }
        }
        finally
        {
            if (from != 0)
            {
                _inbound.TryRemove(KeyValuePair.Create(from, client));
            }
        }
    }

    private static string SafeRemoteEndPoint(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint?.ToString() ?? "?";
        }
        catch (ObjectDisposedException)
        {
            return "?";
        }
    }

    /// <summary>
    /// A notice the connection's member reads before the connection is closed (on the connection it opened, where it
    /// reads only short answers): Removed with its own id (it stops), or ClusterMismatch with this cluster's id.
    /// </summary>
    private static void SendNotice(Socket socket, PeerFrameType type, ulong id)
    {
        var notice = new ArrayBufferWriter<byte>(PeerCodec.FrameHeaderBytes + 8);
        PeerCodec.WriteFrame(notice, type, (long)id, PeerCodec.WriteProbe);
        socket.Send(notice.WrittenSpan);
    }

    /// <summary>Echoes pings back on the connection they came in on: the only frames written in that direction.</summary>
    private static void AnswerPings(Socket socket, List<long> pings)
    {
        var pongs = new ArrayBufferWriter<byte>(pings.Count * (PeerCodec.FrameHeaderBytes + 8));
        foreach (var timestamp in pings)
        {
            PeerCodec.WriteFrame(pongs, PeerFrameType.Pong, timestamp, PeerCodec.WriteProbe);
        }
        socket.Send(pongs.WrittenSpan);
    }

    private static void Deliver(ClusterNode node, ulong from, List<Message>? messages, List<byte[][]>? forwards, List<object>? exchanges)
    {
        if (exchanges is not null)
        {
            foreach (var item in exchanges)
            {
                switch (item)
                {
                    case LeaseQuery query:
                        node.ReceiveLeaseQuery(from, query);
                        break;
                    case ForwardAnswer answer:
                        node.ReceiveForwardAnswer(answer);
                        break;
                    default:
                        node.ReceiveLeaseAnswer((LeaseAnswer)item);
                        break;
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
                node.ReceiveForwarded(from, proposals);
            }
        }
    }

    internal static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out PeerFrameType type, out ReadOnlySequence<byte> payload)
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

    [LoggerMessage(Level = LogLevel.Error, Message = "an incoming peer connection's reader failed; the connection is dropped")]
    private static partial void LogReaderFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused a peer connection from {RemoteEndPoint}: {Count} are open already")]
    private static partial void LogTooManyConnections(ILogger logger, int count, string remoteEndPoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "a joining member at {PeerUrls} asked for the membership")]
    private static partial void LogJoinQuery(ILogger logger, string peerUrls);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused a connection from member {MemberId:x} ({Name}): it was removed from the cluster; told it so")]
    private static partial void LogRemovedMemberRefused(ILogger logger, ulong memberId, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "member {MemberId:x} ({Name}) is not in this member's membership yet (this member is behind: it joined since); answering it at {Url}")]
    private static partial void LogRemoteAdded(ILogger logger, ulong memberId, string name, Uri url);

    [LoggerMessage(Level = LogLevel.Information, Message = "closed the connection from member {MemberId:x}: it was removed from the cluster; told it so")]
    private static partial void LogConnectedMemberRemoved(ILogger logger, ulong memberId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused a connection from member {MemberId:x} ({Name}) of cluster {TheirCluster:x}: this member is in cluster {OurCluster:x}")]
    private static partial void LogOtherClusterRefused(ILogger logger, ulong memberId, string name, ulong theirCluster, ulong ourCluster);

    [LoggerMessage(Level = LogLevel.Warning, Message = "closing peer connection from {Remote}: {Reason}")]
    private static partial void LogBadFrame(ILogger logger, string remote, string reason);
}
