using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using Grpc.Core;
using Parley.Server.Http2;

namespace Parley.Bench.Wire;

/// <summary>
/// A cleartext HTTP/2 connection (RFC 9113, prior knowledge) that carries unary gRPC calls and nothing else: the load
/// generator's wire, lighter than HttpClient's. Requests are written into one buffer and leave in as few socket
/// writes as possible: a closed-loop client's next request, sent from the code that awaited the previous answer (run
/// inline on the reader), leaves with the others once the reader has handled everything one read brought. It honours
/// the server's settings (concurrent streams, frame size, windows), answers PING and SETTINGS, follows GOAWAY, ends
/// calls at their deadline (RST_STREAM CANCEL) and fails every call in flight if the connection breaks.
/// </summary>
internal sealed class LeanHttp2Connection : IDisposable
{
    private const int FrameHeaderBytes = 9;
    private const int DefaultWindow = 65_535;
    private const int DefaultFrameBytes = 16_384;
    private const int WindowMax = int.MaxValue;
    private const int ReceiveWindowRefill = 1 << 30;
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(50);
    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    private readonly Socket _socket;
    private readonly string _authority;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, LeanCall> _streams = [];
    private readonly Queue<LeanCall> _waitingForStream = new();
    private readonly Queue<LeanCall> _waitingForWindow = new();
    private readonly Dictionary<string, byte[]> _headerBlocks = [];
    private readonly HpackDecoder _decoder = new();
    private readonly List<(string Name, string Value)> _fields = [];
    private readonly ArrayBufferWriter<byte> _headerBlock = new(256);
    private readonly Timer _sweep;
    private ArrayBufferWriter<byte> _pending = new(64 * 1024);
    private ArrayBufferWriter<byte>? _spare = new(64 * 1024);
    private bool _flushing;
    private bool _corked;
    private int _nextStreamId = 1;
    private long _connectionSendWindow = DefaultWindow;
    private int _peerInitialWindow = DefaultWindow;
    private int _peerFrameBytes = DefaultFrameBytes;
    private int _peerStreamsMax = int.MaxValue; // unlimited until the server's SETTINGS say otherwise
    private long _receivedSinceRefill;
    private bool _goingAway;
    private Exception? _failure;
    // A header block in CONTINUATION frames: its stream, flags and bytes so far.
    private int _continuedStream;
    private byte _continuedFlags;
    private readonly ArrayBufferWriter<byte> _continued = new();

    private LeanHttp2Connection(Socket socket, string authority)
    {
        _socket = socket;
        _authority = authority;
        _sweep = new Timer(static state => ((LeanHttp2Connection)state!).Sweep(), this, SweepInterval, SweepInterval);
    }

    /// <summary>False once the connection broke, or the server said GOAWAY, or stream ids ran out: open another.</summary>
    public bool IsAcceptingCalls
    {
        get
        {
            lock (_lock)
            {
                return _failure is null && !_goingAway;
            }
        }
    }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> and sends the preface and our settings.</summary>
    public static async Task<LeanHttp2Connection> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connectTimeout.CancelAfter(timeout);
            await socket.ConnectAsync(host, port, connectTimeout.Token).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var connection = new LeanHttp2Connection(socket, host + ":" + port);
        connection.Open();
        return connection;
    }

    private void Open()
    {
        lock (_lock)
        {
            Preface.CopyTo(_pending.GetSpan(Preface.Length));
            _pending.Advance(Preface.Length);
            // SETTINGS: no push; streams' receive windows as large as allowed (answers never need a stream WINDOW_UPDATE)
            WriteFrameHeader(12, FrameType.Settings, 0, 0);
            WriteSetting(0x2, 0);
            WriteSetting(0x4, WindowMax);
            WriteWindowUpdate(0, WindowMax - DefaultWindow); // and the connection's
            _flushing = true;
        }
        _ = FlushAsync();
        _ = ReadLoopAsync();
    }

    /// <summary>Starts <paramref name="call"/>, now or once the server allows another stream; fails it if the connection is gone.</summary>
    public void Start(LeanCall call)
    {
        Status? refused = null;
        bool flush;
        lock (_lock)
        {
            if (_failure is { } failure)
            {
                refused = Unavailable(failure);
            }
            else if (_goingAway)
            {
                refused = new Status(StatusCode.Unavailable, "The connection takes no more calls (GOAWAY, or its stream ids ran out).");
            }
            else if (_streams.Count >= _peerStreamsMax || _waitingForStream.Count > 0)
            {
                _waitingForStream.Enqueue(call);
            }
            else
            {
                StartStream(call);
            }
            flush = TakeFlush();
        }
        if (refused is { } status)
        {
            call.Finish(status);
        }
        if (flush)
        {
            _ = FlushAsync();
        }
    }

    private void StartStream(LeanCall call)
    {
        var id = _nextStreamId;
        _nextStreamId += 2;
        if (_nextStreamId > int.MaxValue - 2)
        {
            _goingAway = true; // ids run out: this connection takes no more streams
        }
        call.StreamId = id;
        call.SendWindow = _peerInitialWindow;
        _streams[id] = call;
        WriteHeaders(call);
        SendData(call);
    }

    private void WriteHeaders(LeanCall call)
    {
        if (!_headerBlocks.TryGetValue(call.Path, out var fixedBlock))
        {
            fixedBlock = RequestHeaders.Fixed(call.Path, _authority);
            _headerBlocks[call.Path] = fixedBlock;
        }
        _headerBlock.ResetWrittenCount();
        RequestHeaders.Write(_headerBlock, fixedBlock, call);
        var block = _headerBlock.WrittenSpan;
        var offset = 0;
        var first = true;
        do
        {
            var length = Math.Min(block.Length - offset, _peerFrameBytes);
            var last = offset + length == block.Length;
            WriteFrameHeader(length, first ? FrameType.Headers : FrameType.Continuation, last ? Flags.EndHeaders : (byte)0, call.StreamId);
            block.Slice(offset, length).CopyTo(_pending.GetSpan(length));
            _pending.Advance(length);
            offset += length;
            first = false;
        }
        while (offset < block.Length);
    }

    /// <summary>Writes what the windows allow of the call's body; queues it for a WINDOW_UPDATE if that is not all.</summary>
    private void SendData(LeanCall call)
    {
        while (call.BodySent < call.BodyLength)
        {
            var chunk = (int)Math.Min(Math.Min(call.BodyLength - call.BodySent, _peerFrameBytes), Math.Min(_connectionSendWindow, call.SendWindow));
            if (chunk <= 0)
            {
                if (!call.AwaitingWindow)
                {
                    call.AwaitingWindow = true;
                    _waitingForWindow.Enqueue(call);
                }
                return;
            }
            var last = call.BodySent + chunk == call.BodyLength;
            WriteFrameHeader(chunk, FrameType.Data, last ? Flags.EndStream : (byte)0, call.StreamId);
            call.Body.AsSpan(call.BodySent, chunk).CopyTo(_pending.GetSpan(chunk));
            _pending.Advance(chunk);
            call.BodySent += chunk;
            call.SendWindow -= chunk;
            _connectionSendWindow -= chunk;
        }
        call.ReturnBody();
    }

    /// <summary>After a window opened or a stream ended: sends what waited for window, starts what waited for a stream.</summary>
    private void ResumeWaitingStreams()
    {
        for (var waiting = _waitingForWindow.Count; waiting > 0 && _connectionSendWindow > 0; waiting--)
        {
            var call = _waitingForWindow.Dequeue();
            call.AwaitingWindow = false;
            if (!call.IsDone && _streams.ContainsKey(call.StreamId))
            {
                SendData(call); // queued again at the back if its window is still closed
            }
        }
        while (_waitingForStream.Count > 0 && _streams.Count < _peerStreamsMax && !_goingAway)
        {
            var call = _waitingForStream.Dequeue();
            if (!call.IsDone)
            {
                StartStream(call);
            }
        }
    }

    /// <summary>Under the lock: whether the caller should start a flush (something to send, nobody sending, not corked).</summary>
    private bool TakeFlush()
    {
        if (_flushing || _corked || _pending.WrittenCount == 0 || _failure is not null)
        {
            return false;
        }
        _flushing = true;
        return true;
    }

    private async Task FlushAsync()
    {
        try
        {
            while (true)
            {
                ArrayBufferWriter<byte> sending;
                lock (_lock)
                {
                    if (_pending.WrittenCount == 0 || _failure is not null)
                    {
                        _flushing = false;
                        return;
                    }
                    sending = _pending;
                    _pending = _spare ?? new ArrayBufferWriter<byte>(64 * 1024);
                    _spare = null;
                }
                var remaining = sending.WrittenMemory;
                while (!remaining.IsEmpty)
                {
                    var sent = await _socket.SendAsync(remaining, SocketFlags.None).ConfigureAwait(false);
                    remaining = remaining[sent..];
                }
                sending.ResetWrittenCount();
                lock (_lock)
                {
                    _spare = sending;
                }
            }
        }
        catch (Exception exception)
        {
            Fail(exception); // whatever broke it (a protocol error included), the calls it carries fail, none hangs
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[256 * 1024];
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                if (start > 0 && end - start < FrameHeaderBytes + DefaultFrameBytes)
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    end -= start;
                    start = 0;
                }
                var read = await _socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException("The server closed the connection.");
                }
                end += read;
                lock (_lock)
                {
                    _corked = true;
                }
                try
                {
                    while (end - start >= FrameHeaderBytes)
                    {
                        var header = buffer.AsSpan(start, FrameHeaderBytes);
                        var length = (header[0] << 16) | (header[1] << 8) | header[2];
                        if (length > DefaultFrameBytes)
                        {
                            throw new IOException($"HTTP/2 frame of {length} bytes, more than the {DefaultFrameBytes} this client allows.");
                        }
                        if (end - start < FrameHeaderBytes + length)
                        {
                            break;
                        }
                        var streamId = (int)(BinaryPrimitives.ReadUInt32BigEndian(header[5..]) & 0x7FFFFFFF);
                        HandleFrame((FrameType)header[3], header[4], streamId, buffer.AsSpan(start + FrameHeaderBytes, length));
                        start += FrameHeaderBytes + length;
                    }
                }
                finally
                {
                    bool flush;
                    lock (_lock)
                    {
                        _corked = false;
                        flush = TakeFlush();
                    }
                    if (flush)
                    {
                        _ = FlushAsync();
                    }
                }
                if (start == end)
                {
                    start = end = 0;
                }
            }
        }
        catch (Exception exception)
        {
            Fail(exception); // whatever broke it (a protocol error included), the calls it carries fail, none hangs
        }
    }

    private void HandleFrame(FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        if (_continuedStream != 0 && type != FrameType.Continuation)
        {
            throw new IOException("HTTP/2 protocol error: a header block's CONTINUATION expected, got " + type + ".");
        }
        switch (type)
        {
            case FrameType.Data:
                OnData(flags, streamId, payload);
                break;
            case FrameType.Headers:
                OnHeaders(flags, streamId, payload);
                break;
            case FrameType.Continuation:
                if (streamId != _continuedStream || streamId == 0)
                {
                    throw new IOException("HTTP/2 protocol error: an unexpected CONTINUATION frame.");
                }
                payload.CopyTo(_continued.GetSpan(payload.Length));
                _continued.Advance(payload.Length);
                if ((flags & Flags.EndHeaders) != 0)
                {
                    _continuedStream = 0;
                    OnHeaderBlock(streamId, (_continuedFlags & Flags.EndStream) != 0, _continued.WrittenSpan);
                    _continued.ResetWrittenCount();
                }
                break;
            case FrameType.ResetStream:
                var code = payload.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(payload) : 0;
                End(streamId, new Status(code == 7 ? StatusCode.Unavailable : code == 8 ? StatusCode.Cancelled : StatusCode.Internal,
                    $"The server reset the stream (HTTP/2 error code {code})."));
                break;
            case FrameType.Settings:
                if ((flags & Flags.Ack) == 0)
                {
                    OnSettings(payload);
                }
                break;
            case FrameType.Ping:
                if ((flags & Flags.Ack) == 0 && payload.Length == 8)
                {
                    lock (_lock)
                    {
                        WriteFrameHeader(8, FrameType.Ping, Flags.Ack, 0);
                        payload.CopyTo(_pending.GetSpan(8));
                        _pending.Advance(8);
                    }
                }
                break;
            case FrameType.GoAway:
                OnGoAway(payload);
                break;
            case FrameType.WindowUpdate:
                OnWindowUpdate(streamId, payload);
                break;
            case FrameType.PushPromise:
                throw new IOException("HTTP/2 protocol error: PUSH_PROMISE, though this client disabled push.");
            default:
                break; // PRIORITY and unknown types are ignored (RFC 9113 §4.1, §5.5)
        }
    }

    private void OnData(byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        lock (_lock)
        {
            _receivedSinceRefill += payload.Length;
            if (_receivedSinceRefill >= ReceiveWindowRefill)
            {
                WriteWindowUpdate(0, (int)_receivedSinceRefill);
                _receivedSinceRefill = 0;
            }
        }
        var data = Unpad(flags, payload);
        if (!TryGetStream(streamId, out var call))
        {
            return; // a stream this client already ended (deadline, cancel): its answer is dropped
        }
        if (!call.HeadersReceived)
        {
            End(streamId, new Status(StatusCode.Internal, "HTTP/2 protocol error: DATA before the response headers."));
            return;
        }
        var endStream = (flags & Flags.EndStream) != 0;
        var whole = call.Received is null && data.Length >= LeanCall.MessagePrefixBytes &&
                    BinaryPrimitives.ReadUInt32BigEndian(data[1..]) == (uint)(data.Length - LeanCall.MessagePrefixBytes);
        if (whole)
        {
            if (!call.TryAcceptFrames(data))
            {
                End(streamId, new Status(StatusCode.Internal, "Malformed gRPC message in the response."));
                return;
            }
        }
        else
        {
            call.Received ??= new ArrayBufferWriter<byte>(Math.Max(256, data.Length * 2));
            call.Received.Write(data);
            if (!TryTakeWholeFrames(call))
            {
                End(streamId, new Status(StatusCode.Internal, "Malformed gRPC message in the response."));
                return;
            }
        }
        if (endStream)
        {
            End(streamId, new Status(StatusCode.Internal, "No grpc-status found on response."));
        }
    }

    /// <summary>Decodes the complete gRPC frames gathered so far and keeps the rest.</summary>
    private static bool TryTakeWholeFrames(LeanCall call)
    {
        var received = call.Received!;
        var span = received.WrittenSpan;
        var consumed = 0;
        while (span.Length - consumed >= LeanCall.MessagePrefixBytes)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(span[(consumed + 1)..]);
            if (length > (uint)(span.Length - consumed - LeanCall.MessagePrefixBytes))
            {
                break;
            }
            var frame = LeanCall.MessagePrefixBytes + (int)length;
            if (!call.TryAcceptFrames(span.Slice(consumed, frame)))
            {
                return false;
            }
            consumed += frame;
        }
        if (consumed > 0)
        {
            var rest = span[consumed..].ToArray();
            received.ResetWrittenCount();
            received.Write(rest);
        }
        return true;
    }

    private void OnHeaders(byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var block = Unpad(flags, payload);
        if ((flags & Flags.Priority) != 0)
        {
            block = block.Length >= 5 ? block[5..] : throw new IOException("HTTP/2 protocol error: a short HEADERS frame.");
        }
        if ((flags & Flags.EndHeaders) == 0)
        {
            _continuedStream = streamId;
            _continuedFlags = flags;
            _continued.ResetWrittenCount();
            _continued.Write(block);
            return;
        }
        OnHeaderBlock(streamId, (flags & Flags.EndStream) != 0, block);
    }

    private void OnHeaderBlock(int streamId, bool endStream, ReadOnlySpan<byte> block)
    {
        _fields.Clear();
        if (!_decoder.TryDecode(block, _fields))
        {
            throw new IOException("HTTP/2 compression error: a header block that is not valid HPACK.");
        }
        if (!TryGetStream(streamId, out var call))
        {
            return;
        }
        if (!call.HeadersReceived)
        {
            var status = 0;
            string? contentType = null;
            Metadata? custom = null;
            foreach (var (name, value) in _fields)
            {
                if (name == ":status")
                {
                    _ = int.TryParse(value, out status);
                }
                else if (name == "content-type")
                {
                    contentType = value;
                }
                else if (!endStream && name[0] != ':')
                {
                    (custom ??= []).Add(name, value);
                }
            }
            call.AcceptHeaders(status == 0 ? -1 : status, custom ?? Metadata.Empty);
            if (status != 200)
            {
                End(streamId, new Status(HttpStatusToGrpc(status), $"Bad gRPC response. HTTP status code: {status}"));
                return;
            }
            if (contentType is null || !contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase))
            {
                End(streamId, new Status(StatusCode.Internal, contentType is null
                    ? "Bad gRPC response. Response did not have a content-type header."
                    : $"Bad gRPC response. Invalid content-type value: {contentType}"));
                return;
            }
            if (!endStream)
            {
                return;
            }
        }
        if (!endStream)
        {
            End(streamId, new Status(StatusCode.Internal, "HTTP/2 protocol error: trailers without END_STREAM."));
            return;
        }
        End(streamId, TrailersStatus(out var trailers), trailers);
    }

    /// <summary>The call's status from the trailers just decoded (<see cref="_fields"/>), and the other trailers.</summary>
    private Status TrailersStatus(out Metadata trailers)
    {
        string? code = null, message = null;
        Metadata? rest = null;
        foreach (var (name, value) in _fields)
        {
            switch (name)
            {
                case "grpc-status":
                    code = value;
                    break;
                case "grpc-message":
                    message = Uri.UnescapeDataString(value);
                    break;
                default:
                    if (name[0] != ':' && name != "content-type")
                    {
                        (rest ??= []).Add(name, value);
                    }
                    break;
            }
        }
        trailers = rest ?? Metadata.Empty;
        if (code is null || !int.TryParse(code, out var status))
        {
            return new Status(StatusCode.Internal, "No grpc-status found on response.");
        }
        return new Status((StatusCode)status, message ?? "");
    }

    private void OnSettings(ReadOnlySpan<byte> payload)
    {
        if (payload.Length % 6 != 0)
        {
            throw new IOException("HTTP/2 protocol error: a SETTINGS frame whose length is not a multiple of 6.");
        }
        bool flush;
        lock (_lock)
        {
            for (var i = 0; i < payload.Length; i += 6)
            {
                var id = BinaryPrimitives.ReadUInt16BigEndian(payload[i..]);
                var value = BinaryPrimitives.ReadUInt32BigEndian(payload[(i + 2)..]);
                switch (id)
                {
                    case 0x3:
                        _peerStreamsMax = (int)Math.Min(value, int.MaxValue);
                        break;
                    case 0x4:
                        if (value > WindowMax)
                        {
                            throw new IOException("HTTP/2 flow-control error: SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1.");
                        }
                        var delta = (int)value - _peerInitialWindow; // applies to the open streams' windows too (§6.9.2)
                        _peerInitialWindow = (int)value;
                        foreach (var call in _streams.Values)
                        {
                            call.SendWindow += delta;
                        }
                        break;
                    case 0x5:
                        if (value is < DefaultFrameBytes or > 16_777_215)
                        {
                            throw new IOException("HTTP/2 protocol error: SETTINGS_MAX_FRAME_SIZE out of range.");
                        }
                        _peerFrameBytes = (int)value;
                        break;
                    default:
                        break; // header table size (this client's encoder adds nothing to the table), list size, unknown
                }
            }
            WriteFrameHeader(0, FrameType.Settings, Flags.Ack, 0);
            ResumeWaitingStreams();
            flush = TakeFlush();
        }
        if (flush)
        {
            _ = FlushAsync();
        }
    }

    private void OnWindowUpdate(int streamId, ReadOnlySpan<byte> payload)
    {
        if (payload.Length != 4)
        {
            throw new IOException("HTTP/2 frame size error: a WINDOW_UPDATE that is not 4 bytes.");
        }
        var increment = BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFFFFFF;
        lock (_lock)
        {
            if (streamId == 0)
            {
                _connectionSendWindow += increment;
            }
            else if (_streams.TryGetValue(streamId, out var call))
            {
                call.SendWindow += increment;
            }
            ResumeWaitingStreams();
        }
    }

    private void OnGoAway(ReadOnlySpan<byte> payload)
    {
        var lastStream = payload.Length >= 8 ? (int)(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFFFFFF) : 0;
        var code = payload.Length >= 8 ? BinaryPrimitives.ReadUInt32BigEndian(payload[4..]) : 0;
        List<LeanCall> unprocessed = [];
        lock (_lock)
        {
            _goingAway = true;
            foreach (var (id, call) in _streams)
            {
                if (id > lastStream)
                {
                    unprocessed.Add(call);
                }
            }
            foreach (var call in unprocessed)
            {
                _streams.Remove(call.StreamId);
            }
            unprocessed.AddRange(_waitingForStream);
            _waitingForStream.Clear();
        }
        var status = new Status(StatusCode.Unavailable, $"The server is closing the connection (GOAWAY, HTTP/2 error code {code}); the request was not processed.");
        foreach (var call in unprocessed)
        {
            call.Finish(status);
        }
        CloseIfDrained();
    }

    private bool TryGetStream(int streamId, out LeanCall call)
    {
        lock (_lock)
        {
            return _streams.TryGetValue(streamId, out call!);
        }
    }

    /// <summary>Ends the stream's call with <paramref name="status"/>: the stream is forgotten, a queued call may start.</summary>
    private void End(int streamId, Status status, Metadata? trailers = null)
    {
        LeanCall? call;
        lock (_lock)
        {
            if (!_streams.Remove(streamId, out call))
            {
                return;
            }
            if (call.BodySent < call.BodyLength)
            {
                WriteResetStream(streamId, 0); // NO_ERROR: the answer came before the whole request was sent (RFC 9113 §8.1)
            }
            ResumeWaitingStreams();
        }
        call.Finish(status, trailers);
        CloseIfDrained();
    }

    /// <summary>After GOAWAY (or with its stream ids used up), the connection closes once its last call ended.</summary>
    private void CloseIfDrained()
    {
        bool drained;
        lock (_lock)
        {
            drained = _goingAway && _failure is null && _streams.Count == 0 && _waitingForStream.Count == 0;
        }
        if (drained)
        {
            Dispose();
        }
    }

    /// <summary>Every 50 ms: ends calls past their deadline, cancelled or disposed (RST_STREAM CANCEL for started ones).</summary>
    private void Sweep()
    {
        List<(LeanCall Call, Status Status)>? ended = null;
        bool flush;
        lock (_lock)
        {
            var now = Stopwatch.GetTimestamp();
            foreach (var call in _streams.Values)
            {
                if (Overdue(call, now) is { } status)
                {
                    (ended ??= []).Add((call, status));
                }
            }
            foreach (var call in _waitingForStream)
            {
                if (Overdue(call, now) is { } status)
                {
                    (ended ??= []).Add((call, status));
                }
            }
            if (ended is not null)
            {
                foreach (var (call, _) in ended)
                {
                    if (call.StreamId != 0 && _streams.Remove(call.StreamId))
                    {
                        WriteResetStream(call.StreamId, 8);
                    }
                }
                ResumeWaitingStreams();
            }
            flush = TakeFlush();
        }
        foreach (var (call, status) in ended ?? [])
        {
            call.Finish(status);
        }
        if (flush)
        {
            _ = FlushAsync();
        }
    }

    private static Status? Overdue(LeanCall call, long now) =>
        call.IsDone ? new Status(StatusCode.Cancelled, "gRPC call disposed.")
        : call.Options.CancellationToken.IsCancellationRequested ? new Status(StatusCode.Cancelled, "Call canceled by the client.")
        : now >= call.DeadlineTimestamp ? new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded")
        : null;

    private void Fail(Exception exception)
    {
        List<LeanCall> calls;
        lock (_lock)
        {
            _failure ??= exception;
            calls = [.. _streams.Values, .. _waitingForStream];
            _streams.Clear();
            _waitingForStream.Clear();
            _waitingForWindow.Clear();
        }
        _sweep.Dispose();
        _socket.Dispose();
        var status = Unavailable(exception);
        foreach (var call in calls)
        {
            call.Finish(status);
        }
    }

    private static Status Unavailable(Exception exception) => new(StatusCode.Unavailable, "Error on the connection: " + exception.Message, exception);

    /// <summary>Closes the connection; calls still in flight fail as Unavailable.</summary>
    public void Dispose() => Fail(new ObjectDisposedException(nameof(LeanHttp2Connection), "The connection was closed by the client."));

    private static StatusCode HttpStatusToGrpc(int status) => status switch
    {
        400 => StatusCode.Internal,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.Unimplemented,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    private static ReadOnlySpan<byte> Unpad(byte flags, ReadOnlySpan<byte> payload)
    {
        if ((flags & Flags.Padded) == 0)
        {
            return payload;
        }
        if (payload.Length == 0 || payload[0] >= payload.Length)
        {
            throw new IOException("HTTP/2 protocol error: padding longer than the frame.");
        }
        return payload[1..^payload[0]];
    }

    private void WriteFrameHeader(int length, FrameType type, byte flags, int streamId)
    {
        var header = _pending.GetSpan(FrameHeaderBytes);
        header[0] = (byte)(length >> 16);
        header[1] = (byte)(length >> 8);
        header[2] = (byte)length;
        header[3] = (byte)type;
        header[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(header[5..], streamId);
        _pending.Advance(FrameHeaderBytes);
    }

    private void WriteSetting(ushort id, int value)
    {
        var span = _pending.GetSpan(6);
        BinaryPrimitives.WriteUInt16BigEndian(span, id);
        BinaryPrimitives.WriteInt32BigEndian(span[2..], value);
        _pending.Advance(6);
    }

    private void WriteWindowUpdate(int streamId, int increment)
    {
        WriteFrameHeader(4, FrameType.WindowUpdate, 0, streamId);
        BinaryPrimitives.WriteInt32BigEndian(_pending.GetSpan(4), increment);
        _pending.Advance(4);
    }

    private void WriteResetStream(int streamId, uint code)
    {
        WriteFrameHeader(4, FrameType.ResetStream, 0, streamId);
        BinaryPrimitives.WriteUInt32BigEndian(_pending.GetSpan(4), code);
        _pending.Advance(4);
    }

    private enum FrameType : byte
    {
        Data = 0,
        Headers = 1,
        Priority = 2,
        ResetStream = 3,
        Settings = 4,
        PushPromise = 5,
        Ping = 6,
        GoAway = 7,
        WindowUpdate = 8,
        Continuation = 9,
    }

    private static class Flags
    {
        public const byte EndStream = 0x1;
        public const byte Ack = 0x1;
        public const byte EndHeaders = 0x4;
        public const byte Padded = 0x8;
        public const byte Priority = 0x20;
    }
}
