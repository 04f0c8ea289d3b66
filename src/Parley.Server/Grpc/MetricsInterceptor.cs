using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Parley.Server.Grpc;

/// <summary>Counts grpc_server_started_total / grpc_server_handled_total per method and code.</summary>
internal sealed class MetricsInterceptor(ServerMetrics metrics) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var method = context.Method.TrimStart('/');
        metrics.GrpcStarted(method);
        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            metrics.GrpcHandled(method, "OK");
            return response;
        }
        catch (RpcException exception)
        {
            metrics.GrpcHandled(method, exception.StatusCode.ToString());
            throw;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var method = context.Method.TrimStart('/');
        metrics.GrpcStarted(method);
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            metrics.GrpcHandled(method, "OK");
        }
        catch (RpcException exception)
        {
            metrics.GrpcHandled(method, exception.StatusCode.ToString());
            throw;
        }
    }
}
