using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Reflection;
using Google.Protobuf;
using Grpc.Core;

namespace Parley.Bench.Wire;

/// <summary>
/// One unary call on a <see cref="LeanHttp2Connection"/>: the request (its gRPC frame, ready to send), the stream's
/// state once started, and what came back. The connection changes it under its lock; the outcome is set once.
/// </summary>
internal abstract class LeanCall
{
    public const int MessagePrefixBytes = 5;

    private readonly object _gate = new();
    private TaskCompletionSource<Metadata>? _headersWaiter;
    private Metadata? _responseHeaders;
    private Status? _status;
    private Metadata _trailers = Metadata.Empty;

    protected LeanCall(string path, CallOptions options, byte[] body, int bodyLength)
    {
        Path = path;
        Options = options;
        Body = body;
        BodyLength = bodyLength;
        DeadlineTimestamp = options.Deadline is { } deadline && deadline != DateTime.MaxValue
            ? Stopwatch.GetTimestamp() + (long)(Math.Max(0, (deadline.ToUniversalTime() - DateTime.UtcNow).TotalSeconds) * Stopwatch.Frequency)
            : long.MaxValue;
    }

    public string Path { get; }

    public CallOptions Options { get; }

    /// <summary>The request's gRPC frame (5-byte prefix, then the message), in an array rented from the shared pool.</summary>
    public byte[] Body { get; private set; }

    public int BodyLength { get; }

    /// <summary>Bytes of <see cref="Body"/> already written in DATA frames.</summary>
    public int BodySent { get; set; }

    /// <summary>The stream's id once started (0 before).</summary>
    public int StreamId { get; set; }

    /// <summary>What the server still lets this stream send (its flow-control window).</summary>
    public long SendWindow { get; set; }

    public long DeadlineTimestamp { get; }

    /// <summary>Set once the outcome is known: the connection skips it in its queues.</summary>
    public bool IsDone { get; private set; }

    /// <summary>True while queued for flow-control window (so that it is queued once).</summary>
    public bool AwaitingWindow { get; set; }

    /// <summary>The HTTP status of the response headers (0 until they arrive).</summary>
    public int HttpStatus { get; private set; }

    public bool HeadersReceived => HttpStatus != 0;

    /// <summary>The response message's bytes when they came in more than one DATA frame (or with others).</summary>
    public ArrayBufferWriter<byte>? Received { get; set; }

    /// <summary>Messages decoded from the response (a unary call expects exactly one).</summary>
    public int MessagesReceived { get; private set; }

    protected abstract void Decode(ReadOnlySpan<byte> message);

    protected abstract void SetOutcome(Status status);

    /// <summary>Decodes the gRPC frames in <paramref name="data"/> (whole frames only); false if they or their messages are malformed.</summary>
    public bool TryAcceptFrames(ReadOnlySpan<byte> data)
    {
        while (data.Length >= MessagePrefixBytes)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(data[1..]);
            if (data[0] != 0 || length > (uint)(data.Length - MessagePrefixBytes))
            {
                return false; // compressed (we asked for none) or truncated
            }
            try
            {
                Decode(data.Slice(MessagePrefixBytes, (int)length));
            }
            catch (InvalidProtocolBufferException)
            {
                return false; // this call fails (Internal); the connection and its other calls go on
            }
            MessagesReceived++;
            data = data[(MessagePrefixBytes + (int)length)..];
        }
        return data.IsEmpty;
    }

    /// <summary>The response headers: their HTTP status, and any custom headers for <see cref="AsyncUnaryCall{T}.ResponseHeadersAsync"/>.</summary>
    public void AcceptHeaders(int httpStatus, Metadata headers)
    {
        TaskCompletionSource<Metadata>? waiter;
        lock (_gate)
        {
            HttpStatus = httpStatus;
            _responseHeaders = headers;
            waiter = _headersWaiter;
        }
        waiter?.TrySetResult(headers);
    }

    /// <summary>
    /// Ends the call (once; later outcomes are ignored). Runs the awaiting code inline. An OK status without exactly
    /// one message becomes Internal.
    /// </summary>
    public bool Finish(Status status, Metadata? trailers = null)
    {
        TaskCompletionSource<Metadata>? waiter;
        lock (_gate)
        {
            if (IsDone)
            {
                return false;
            }
            IsDone = true;
            if (status.StatusCode == StatusCode.OK && MessagesReceived != 1)
            {
                status = new Status(StatusCode.Internal, $"Failed to deserialize response message: {MessagesReceived} messages in a unary response.");
            }
            _status = status;
            _trailers = trailers ?? Metadata.Empty;
            _responseHeaders ??= Metadata.Empty;
            waiter = _headersWaiter;
        }
        waiter?.TrySetResult(_responseHeaders);
        SetOutcome(status);
        return true;
    }

    /// <summary>
    /// Connection only, under its lock, once the body is all written: back to the pool. A call that ends before (its
    /// deadline, a reset) keeps its array for the garbage collector, since the connection may still be copying from it.
    /// </summary>
    public void ReturnBody()
    {
        var body = Body;
        if (body.Length > 0)
        {
            Body = [];
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    public Task<Metadata> ResponseHeadersAsync()
    {
        lock (_gate)
        {
            if (_responseHeaders is { } headers)
            {
                return Task.FromResult(headers);
            }
            _headersWaiter ??= new TaskCompletionSource<Metadata>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _headersWaiter.Task;
        }
    }

    public Status GetStatus()
    {
        lock (_gate)
        {
            return _status ?? throw new InvalidOperationException("Unable to get the status because the call is not complete.");
        }
    }

    public Metadata GetTrailers()
    {
        lock (_gate)
        {
            return _status is null ? throw new InvalidOperationException("Can't get the call trailers because the call has not completed successfully.") : _trailers;
        }
    }
}

/// <summary>A unary call whose response is a <typeparamref name="TResponse"/>.</summary>
internal sealed class LeanCall<TResponse> : LeanCall where TResponse : class
{
    // Protobuf messages are parsed from the received bytes directly; anything else through its marshaller.
    private static readonly MessageParser? Parser =
        typeof(IMessage).IsAssignableFrom(typeof(TResponse))
            ? typeof(TResponse).GetProperty("Parser", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as MessageParser
            : null;

    // The awaiting code (the next request of a closed-loop client) runs inline on the connection's reader, whose
    // writes leave together once it has handled everything one read brought.
    private readonly TaskCompletionSource<TResponse> _response = new();
    private readonly Marshaller<TResponse> _marshaller;
    private TResponse? _message;

    private LeanCall(string path, CallOptions options, byte[] body, int bodyLength, Marshaller<TResponse> marshaller)
        : base(path, options, body, bodyLength)
    {
        _marshaller = marshaller;
    }

    public Task<TResponse> ResponseAsync => _response.Task;

    public static LeanCall<TResponse> Create<TRequest>(Method<TRequest, TResponse> method, CallOptions options, TRequest request)
        where TRequest : class
    {
        byte[] body;
        int length;
        if (request is IMessage message)
        {
            var size = message.CalculateSize();
            length = MessagePrefixBytes + size;
            body = ArrayPool<byte>.Shared.Rent(length);
            message.WriteTo(body.AsSpan(MessagePrefixBytes, size));
        }
        else
        {
            var serialized = method.RequestMarshaller.Serializer(request);
            length = MessagePrefixBytes + serialized.Length;
            body = ArrayPool<byte>.Shared.Rent(length);
            serialized.CopyTo(body, MessagePrefixBytes);
        }
        body[0] = 0; // not compressed
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(1), (uint)(length - MessagePrefixBytes));
        return new LeanCall<TResponse>(method.FullName, options, body, length, method.ResponseMarshaller);
    }

    public AsyncUnaryCall<TResponse> ToAsyncUnaryCall() => new(
        _response.Task,
        static state => ((LeanCall)state).ResponseHeadersAsync(),
        static state => ((LeanCall)state).GetStatus(),
        static state => ((LeanCall)state).GetTrailers(),
        static state => ((LeanCall)state).Finish(new Status(StatusCode.Cancelled, "gRPC call disposed.")),
        this);

    protected override void Decode(ReadOnlySpan<byte> message) =>
        _message = Parser is { } parser ? (TResponse)parser.ParseFrom(message) : _marshaller.Deserializer(message.ToArray());

    protected override void SetOutcome(Status status)
    {
        if (status.StatusCode == StatusCode.OK)
        {
            _response.TrySetResult(_message!);
        }
        else
        {
            _response.TrySetException(new RpcException(status, GetTrailers()));
        }
    }
}
