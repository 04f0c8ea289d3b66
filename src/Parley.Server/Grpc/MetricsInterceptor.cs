using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Parley.Server.Grpc;

/// <summary>Counts grpc_server_started_total / grpc_server_handled_total per method and code, for every kind of call.</summary>
internal sealed class MetricsInterceptor(ServerMetrics metrics) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var method = Started(context);
        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            metrics.GrpcHandled(method, "OK");
            return response;
        }
        catch (Exception exception)
        {
            metrics.GrpcHandled(method, Code(exception, context));
            throw;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var method = Started(context);
        try
        {
            var response = await continuation(requestStream, context).ConfigureAwait(false);
            metrics.GrpcHandled(method, "OK");
            return response;
        }
        catch (Exception exception)
        {
            metrics.GrpcHandled(method, Code(exception, context));
            throw;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var method = Started(context);
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            metrics.GrpcHandled(method, "OK");
        }
        catch (Exception exception)
        {
            metrics.GrpcHandled(method, Code(exception, context));
            throw;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var method = Started(context);
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            metrics.GrpcHandled(method, "OK");
        }
        catch (Exception exception)
        {
            metrics.GrpcHandled(method, Code(exception, context));
            throw;
        }
    }

    private string Started(ServerCallContext context)
    {
        var method = context.Method.TrimStart('/');
        metrics.GrpcStarted(method);
        return method;
    }

    /// <summary>The status the client sees (the RpcException's, Canceled for a call the client gave up, else Unknown) in
    /// Go's spelling, as etcd's labels have it: the only name that differs is Canceled (.NET: Cancelled).</summary>
    private static string Code(Exception exception, ServerCallContext context)
    {
        var code = exception switch
        {
            RpcException rpc => rpc.StatusCode,
            OperationCanceledException when context.CancellationToken.IsCancellationRequested => StatusCode.Cancelled,
            _ => StatusCode.Unknown,
        };
        return code == StatusCode.Cancelled ? "Canceled" : code.ToString();
    }
}
