using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Grpc;

/// <summary>
/// Serves etcd's unary KV calls (Range, Put, DeleteRange, Txn, Compact) ahead of endpoint routing, without
/// Grpc.AspNetCore's per-call machinery (route matching, its call context and deadline manager, the interceptor
/// pipeline's activation): together a tenth of a member's CPU at 64 clients. The call still runs through
/// <see cref="ServerCallInterceptor"/> (metrics, auth) and the <see cref="KvService"/> handler, and answers as
/// Grpc.AspNetCore does: the same statuses and messages for a bad frame, an oversized message, a deadline, a
/// handler's error. A call this path does not take (another content type, a compressed message, HTTP/1.1, any
/// other method) goes on to Grpc.AspNetCore unchanged.
/// </summary>
internal sealed partial class DirectUnaryCalls
{
    private const string GrpcContentType = "application/grpc";
    private const int FrameHeaderBytes = 5;

    private readonly Dictionary<string, ICall> _calls;
    private readonly int _maxReceiveBytes;

    public DirectUnaryCalls(KvService kv, ServerCallInterceptor interceptor, int maxReceiveBytes, ILogger logger)
    {
        _maxReceiveBytes = maxReceiveBytes;
        var calls = new ICall[]
        {
            new Call<EtcdPb.RangeRequest, EtcdPb.RangeResponse>(this, "/etcdserverpb.KV/Range", EtcdPb.RangeRequest.Parser, kv.Range, interceptor, logger),
            new Call<EtcdPb.PutRequest, EtcdPb.PutResponse>(this, "/etcdserverpb.KV/Put", EtcdPb.PutRequest.Parser, kv.Put, interceptor, logger),
            new Call<EtcdPb.DeleteRangeRequest, EtcdPb.DeleteRangeResponse>(this, "/etcdserverpb.KV/DeleteRange", EtcdPb.DeleteRangeRequest.Parser, kv.DeleteRange, interceptor, logger),
            new Call<EtcdPb.TxnRequest, EtcdPb.TxnResponse>(this, "/etcdserverpb.KV/Txn", EtcdPb.TxnRequest.Parser, kv.Txn, interceptor, logger),
            new Call<EtcdPb.CompactionRequest, EtcdPb.CompactionResponse>(this, "/etcdserverpb.KV/Compact", EtcdPb.CompactionRequest.Parser, kv.Compact, interceptor, logger),
        };
        _calls = calls.ToDictionary(call => call.Path, StringComparer.Ordinal);
    }

    public Task InvokeAsync(HttpContext http, RequestDelegate next)
    {
        var request = http.Request;
        if (request.Path.Value is { } path && _calls.TryGetValue(path, out var call) && IsPlainUnaryCall(request))
        {
            return call.ServeAsync(http);
        }
        return next(http);
    }

    /// <summary>
    /// A gRPC call over HTTP/2 with protobuf messages and no compression: everything else (which Grpc.AspNetCore
    /// either serves or refuses with its own statuses) is left to it.
    /// </summary>
    private static bool IsPlainUnaryCall(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method) || !HttpProtocol.IsHttp2(request.Protocol))
        {
            return false;
        }
        var contentType = request.ContentType;
        if (contentType is not (GrpcContentType or "application/grpc+proto"))
        {
            return false;
        }
        var encoding = request.Headers["grpc-encoding"];
        return encoding.Count == 0 || (encoding.Count == 1 && encoding[0] == "identity");
    }

    /// <summary>
    /// grpc-timeout as Grpc.AspNetCore reads it: digits and a unit; anything else, zero, or more than int.MaxValue
    /// milliseconds (24 days) is no deadline.
    /// </summary>
    internal static bool TryReadTimeout(StringValues values, out TimeSpan timeout)
    {
        timeout = TimeSpan.Zero;
        if (values.Count != 1 || values[0] is not { Length: >= 2 } text
            || !int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }
        timeout = text[^1] switch
        {
            'H' => TimeSpan.FromHours(amount),
            'M' => TimeSpan.FromMinutes(amount),
            'S' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMilliseconds(amount),
            'u' => TimeSpan.FromTicks(amount * 10L),
            'n' => TimeSpan.FromTicks(amount / 100L),
            _ => TimeSpan.Zero,
        };
        return timeout > TimeSpan.Zero && timeout.TotalMilliseconds <= int.MaxValue;
    }

    /// <summary>A status message as the gRPC protocol carries it: UTF-8, with bytes outside printable ASCII and '%' percent-encoded.</summary>
    internal static string PercentEncode(string detail)
    {
        var plain = true;
        foreach (var c in detail)
        {
            if (c is < ' ' or > '~' or '%')
            {
                plain = false;
                break;
            }
        }
        if (plain)
        {
            return detail;
        }
        var encoded = new StringBuilder(detail.Length + 16);
        foreach (var b in Encoding.UTF8.GetBytes(detail))
        {
            if (b is < (byte)' ' or > (byte)'~' or (byte)'%')
            {
                encoded.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
            else
            {
                encoded.Append((char)b);
            }
        }
        return encoded.ToString();
    }

    /// <summary>
    /// Ends the call with a status and no message: in the HEADERS frame (a trailers-only response) while nothing has
    /// been sent, else in the trailers; with the trailers the handler added and those of its exception.
    /// </summary>
    private static void SetStatus(HttpContext http, Status status, Metadata? handlerTrailers, Metadata? exceptionTrailers)
    {
        var response = http.Response;
        var destination = response.HasStarted ? Trailers(http) : response.Headers;
        if (!response.HasStarted)
        {
            response.ContentType = GrpcContentType;
        }
        AppendMetadata(destination, handlerTrailers);
        AppendMetadata(destination, exceptionTrailers);
        destination["grpc-status"] = ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture);
        destination["grpc-message"] = string.IsNullOrEmpty(status.Detail) ? default : PercentEncode(status.Detail);
    }

    private static IHeaderDictionary Trailers(HttpContext http) =>
        http.Features.Get<IHttpResponseTrailersFeature>()?.Trailers
        ?? throw new InvalidOperationException("the HTTP/2 response has no trailers");

    private static void AppendMetadata(IHeaderDictionary destination, Metadata? metadata)
    {
        if (metadata is null)
        {
            return;
        }
        foreach (var entry in metadata)
        {
            destination.Append(entry.Key, entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value);
        }
    }

    /// <summary>Reads the request's one message. Throws RpcException with Grpc.AspNetCore's status for a bad frame.</summary>
    private async ValueTask<TRequest> ReadMessageAsync<TRequest>(HttpRequest request, MessageParser<TRequest> parser)
        where TRequest : IMessage<TRequest>
    {
        var body = request.BodyReader;
        while (true)
        {
            var result = await body.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                body.AdvanceTo(buffer.Start);
                throw new RpcException(new Status(StatusCode.Internal, "Incoming message cancelled."));
            }
            var haveHeader = buffer.Length >= FrameHeaderBytes;
            uint length = 0;
            if (haveHeader)
            {
                // The length is checked as soon as the header is in, before the message's bytes are awaited.
                ReadFrameHeader(buffer, out var compressed, out length);
                if (length > _maxReceiveBytes)
                {
                    body.AdvanceTo(buffer.Start);
                    throw new RpcException(new Status(StatusCode.ResourceExhausted, "Received message exceeds the maximum configured message size."));
                }
                if (compressed)
                {
                    body.AdvanceTo(buffer.Start);
                    throw new RpcException(new Status(StatusCode.Internal, request.Headers.ContainsKey("grpc-encoding")
                        ? "Request sent 'identity' grpc-encoding value with compressed message."
                        : "Request did not include grpc-encoding value with compressed message."));
                }
            }
            if (!result.IsCompleted)
            {
                body.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            try
            {
                if (!haveHeader || buffer.Length - FrameHeaderBytes < length)
                {
                    throw new RpcException(new Status(StatusCode.Internal, "Incomplete message."));
                }
                if (buffer.Length - FrameHeaderBytes > length)
                {
                    throw new RpcException(new Status(StatusCode.Internal, "Additional data after the message received."));
                }
                return parser.ParseFrom(buffer.Slice(FrameHeaderBytes));
            }
            finally
            {
                body.AdvanceTo(buffer.End);
            }
        }
    }

    private static void ReadFrameHeader(ReadOnlySequence<byte> buffer, out bool compressed, out uint length)
    {
        Span<byte> header = stackalloc byte[FrameHeaderBytes];
        buffer.Slice(0, FrameHeaderBytes).CopyTo(header);
        compressed = header[0] != 0;
        length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
    }

    private static void WriteMessage(HttpContext http, IMessage message, Metadata? handlerTrailers)
    {
        var response = http.Response;
        response.ContentType = GrpcContentType;
        var size = message.CalculateSize();
        var writer = response.BodyWriter;
        var frame = writer.GetSpan(FrameHeaderBytes + size);
        frame[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(frame[1..], (uint)size);
        message.WriteTo(frame.Slice(FrameHeaderBytes, size));
        writer.Advance(FrameHeaderBytes + size);
        // Not flushed: Kestrel sends the headers, the message and the trailers together when the call returns.
        var trailers = Trailers(http);
        AppendMetadata(trailers, handlerTrailers);
        trailers["grpc-status"] = "0";
    }

    /// <summary>
    /// As Grpc.AspNetCore at a deadline: the client gets DEADLINE_EXCEEDED at once and the stream is reset, while the
    /// handler (which holds the request) is waited for before the request ends.
    /// </summary>
    private static async Task EndAtDeadlineAsync(HttpContext http)
    {
        SetStatus(http, new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"), null, null);
        if (http.Features.Get<IHttpResponseBodyFeature>() is { } body)
        {
            await body.CompleteAsync().ConfigureAwait(false);
        }
        if (http.Features.Get<IHttpResetFeature>() is { } reset)
        {
            reset.Reset(8); // HTTP/2 CANCEL
        }
        else
        {
            http.Abort();
        }
    }

    private interface ICall
    {
        string Path { get; }

        Task ServeAsync(HttpContext http);
    }

    private sealed class Call<TRequest, TResponse>(DirectUnaryCalls owner, string path, MessageParser<TRequest> parser,
        UnaryServerMethod<TRequest, TResponse> handler, ServerCallInterceptor interceptor, ILogger logger) : ICall
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        public string Path => path;

        public async Task ServeAsync(HttpContext http)
        {
            var started = DateTime.UtcNow;
            var hasDeadline = TryReadTimeout(http.Request.Headers["grpc-timeout"], out var timeout);
            var deadline = hasDeadline ? started + timeout : DateTime.MaxValue;
            TRequest request;
            try
            {
                request = await ReadRequestAsync(http, hasDeadline, timeout).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested && hasDeadline)
            {
                await EndAtDeadlineAsync(http).ConfigureAwait(false);
                return;
            }
            catch (Exception exception)
            {
                Fail(http, exception, null);
                return;
            }
            var context = new UnaryCallContext(http, path, deadline);
            try
            {
                Task<TResponse> call;
                try
                {
                    call = interceptor.UnaryServerHandler(request, context, handler);
                }
                catch (Exception exception)
                {
                    Fail(http, exception, context);
                    return;
                }
                if (hasDeadline && !call.IsCompleted)
                {
                    var remaining = deadline - DateTime.UtcNow;
                    try
                    {
                        await call.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero).ConfigureAwait(false);
                    }
                    catch (Exception) when (!call.IsCompleted)
                    {
                        context.DeadlineExceeded();
                        try
                        {
                            await EndAtDeadlineAsync(http).ConfigureAwait(false);
                        }
                        finally
                        {
                            // Even if the answer could not be sent (the client gone): the request ends after the handler.
                            await call.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
                        }
                        return;
                    }
                    catch (Exception)
                    {
                        // The call failed (or finished) as the wait ended: its own outcome is read below.
                    }
                }
                TResponse response;
                try
                {
                    response = await call.ConfigureAwait(false);
                }
                catch (Exception exception)
                {
                    Fail(http, exception, context);
                    return;
                }
                WriteMessage(http, response, context.AddedTrailers);
            }
            finally
            {
                context.Complete();
            }
        }

        private ValueTask<TRequest> ReadRequestAsync(HttpContext http, bool hasDeadline, TimeSpan timeout)
        {
            var reading = owner.ReadMessageAsync(http.Request, parser);
            // A unary request's bytes are usually all in by now; one still arriving is bounded by the call's deadline.
            return reading.IsCompleted || !hasDeadline ? reading : WaitForRequestAsync(reading, http.Request.BodyReader, timeout);
        }

        private static async ValueTask<TRequest> WaitForRequestAsync(ValueTask<TRequest> reading, PipeReader body, TimeSpan timeout)
        {
            using var deadline = new CancellationTokenSource(timeout);
            using var cancelRead = deadline.Token.Register(static reader => ((PipeReader)reader!).CancelPendingRead(), body);
            try
            {
                return await reading.ConfigureAwait(false);
            }
            catch (RpcException) when (deadline.IsCancellationRequested)
            {
                throw new OperationCanceledException("the call's deadline passed while its request was read");
            }
        }

        private void Fail(HttpContext http, Exception exception, UnaryCallContext? context)
        {
            if (exception is RpcException rpc)
            {
                SetStatus(http, rpc.Status, context?.AddedTrailers, rpc.Trailers);
                return;
            }
            if (exception is OperationCanceledException or IOException && http.RequestAborted.IsCancellationRequested)
            {
                LogCanceled(logger, path);
            }
            else
            {
                LogHandlerError(logger, path, exception);
            }
            // As Grpc.AspNetCore without detailed errors: the exception's text stays in the member's log.
            SetStatus(http, new Status(StatusCode.Unknown, "Exception was thrown by handler."), context?.AddedTrailers, null);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "error when executing gRPC method {Method}")]
    private static partial void LogHandlerError(ILogger logger, string method, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "gRPC method {Method} canceled by its client")]
    private static partial void LogCanceled(ILogger logger, string method);
}
