using Grpc.Core;
using Grpc.Core.Interceptors;
using Parley.Server.Auth;

namespace Parley.Server.Grpc;

/// <summary>
/// Runs around every gRPC call: counts it (grpc_server_started_total / grpc_server_handled_total per method and code),
/// then checks it with <see cref="AuthGate.AuthorizeAsync(ServerCallContext)"/> before the handler. One interceptor,
/// a singleton: each interceptor costs every call an activation and two async state machines in Grpc.AspNetCore's
/// pipeline, and a unary call whose check completes at once (auth off, or a known token) adds none of its own until
/// the handler itself has to wait.
/// </summary>
internal sealed class ServerCallInterceptor(ServerMetrics metrics, AuthGate gate) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var counters = Started(context);
        Task<TResponse> call;
        try
        {
            var authorizing = gate.AuthorizeAsync(context);
            if (!authorizing.IsCompletedSuccessfully)
            {
                return AuthorizeThenCallAsync(authorizing, request, context, continuation, counters);
            }
            call = continuation(request, context);
        }
        catch (Exception exception)
        {
            counters.Handled(Code(exception, context));
            throw;
        }
        if (call.IsCompletedSuccessfully)
        {
            counters.Handled(StatusCode.OK);
            return call;
        }
        return AwaitCallAsync(call, context, counters);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var counters = Started(context);
        try
        {
            await gate.AuthorizeAsync(context).ConfigureAwait(false);
            var response = await continuation(requestStream, context).ConfigureAwait(false);
            counters.Handled(StatusCode.OK);
            return response;
        }
        catch (Exception exception)
        {
            counters.Handled(Code(exception, context));
            throw;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var counters = Started(context);
        try
        {
            await gate.AuthorizeAsync(context).ConfigureAwait(false);
            await continuation(request, responseStream, context).ConfigureAwait(false);
            counters.Handled(StatusCode.OK);
        }
        catch (Exception exception)
        {
            counters.Handled(Code(exception, context));
            throw;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var counters = Started(context);
        try
        {
            await gate.AuthorizeAsync(context).ConfigureAwait(false);
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            counters.Handled(StatusCode.OK);
        }
        catch (Exception exception)
        {
            counters.Handled(Code(exception, context));
            throw;
        }
    }

    private static async Task<TResponse> AuthorizeThenCallAsync<TRequest, TResponse>(ValueTask authorizing, TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation, GrpcMethodCounters counters)
        where TRequest : class
        where TResponse : class
    {
        try
        {
            await authorizing.ConfigureAwait(false);
            var response = await continuation(request, context).ConfigureAwait(false);
            counters.Handled(StatusCode.OK);
            return response;
        }
        catch (Exception exception)
        {
            counters.Handled(Code(exception, context));
            throw;
        }
    }

    private static async Task<TResponse> AwaitCallAsync<TResponse>(Task<TResponse> call, ServerCallContext context, GrpcMethodCounters counters)
    {
        try
        {
            var response = await call.ConfigureAwait(false);
            counters.Handled(StatusCode.OK);
            return response;
        }
        catch (Exception exception)
        {
            counters.Handled(Code(exception, context));
            throw;
        }
    }

    private GrpcMethodCounters Started(ServerCallContext context)
    {
        var counters = metrics.GrpcMethod(context.Method);
        counters.Started();
        return counters;
    }

    /// <summary>The status the client sees: the RpcException's, Canceled for a call the client gave up, else Unknown.</summary>
    private static StatusCode Code(Exception exception, ServerCallContext context) => exception switch
    {
        RpcException rpc => rpc.StatusCode,
        OperationCanceledException when context.CancellationToken.IsCancellationRequested => StatusCode.Cancelled,
        _ => StatusCode.Unknown,
    };
}
