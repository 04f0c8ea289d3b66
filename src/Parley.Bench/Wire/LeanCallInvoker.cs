using Grpc.Core;

namespace Parley.Bench.Wire;

/// <summary>
/// Unary calls over one <see cref="LeanHttp2Connection"/> to <c>host:port</c> (a new one when the last broke or the
/// server sent GOAWAY); streaming calls (watch, lease keep-alive) go to <paramref name="streaming"/>, an ordinary
/// Grpc.Net.Client channel. Generated clients (<c>new KV.KVClient(invoker)</c>) work unchanged over it.
/// </summary>
internal sealed class LeanCallInvoker(string host, int port, CallInvoker streaming) : CallInvoker, IDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private LeanHttp2Connection? _connection;
    private Task<LeanHttp2Connection>? _connecting;
    private bool _disposed;

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        var call = LeanCall<TResponse>.Create(method, options, request);
        var connection = Volatile.Read(ref _connection);
        if (connection is not null && connection.IsAcceptingCalls)
        {
            connection.Start(call);
        }
        else
        {
            _ = StartWhenConnectedAsync(call);
        }
        return call.ToAsyncUnaryCall();
    }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        AsyncUnaryCall(method, host, options, request).ResponseAsync.GetAwaiter().GetResult();

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        streaming.AsyncServerStreamingCall(method, host, options, request);

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        streaming.AsyncClientStreamingCall(method, host, options);

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        streaming.AsyncDuplexStreamingCall(method, host, options);

    private async Task StartWhenConnectedAsync(LeanCall call)
    {
        LeanHttp2Connection connection;
        try
        {
            connection = await ConnectedAsync(call.Options.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            call.Finish(new Status(exception is OperationCanceledException && call.Options.CancellationToken.IsCancellationRequested ? StatusCode.Cancelled : StatusCode.Unavailable,
                $"Error connecting to {host}:{port}: {exception.Message}", exception));
            return;
        }
        connection.Start(call);
    }

    /// <summary>The connection calls go to: the current one, or a new one (one connect at a time, shared by the callers waiting).</summary>
    private Task<LeanHttp2Connection> ConnectedAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is { IsAcceptingCalls: true } connection)
            {
                return Task.FromResult(connection);
            }
            if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled || (_connecting.IsCompletedSuccessfully && !_connecting.Result.IsAcceptingCalls))
            {
                _connecting = ConnectAsync();
            }
            return _connecting.WaitAsync(cancellationToken);
        }
    }

    private async Task<LeanHttp2Connection> ConnectAsync()
    {
        var connection = await LeanHttp2Connection.ConnectAsync(host, port, ConnectTimeout, CancellationToken.None).ConfigureAwait(false);
        lock (_lock)
        {
            if (_disposed)
            {
                connection.Dispose();
                throw new ObjectDisposedException(nameof(LeanCallInvoker));
            }
            Volatile.Write(ref _connection, connection); // the one before is broken (and closed), or closes once drained
        }
        return connection;
    }

    public void Dispose()
    {
        LeanHttp2Connection? connection;
        lock (_lock)
        {
            _disposed = true;
            connection = _connection;
            _connection = null;
        }
        connection?.Dispose();
    }
}
