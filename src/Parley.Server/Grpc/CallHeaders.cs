using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Parley.Server.Grpc;

/// <summary>
/// One request header of a gRPC call, read from the HTTP request. <see cref="ServerCallContext.RequestHeaders"/> would
/// give the same value (a repeated header joined with commas) but copies every header of the call into a Metadata
/// collection first, on each call that asks.
/// </summary>
internal static class CallHeaders
{
    public static string? Get(ServerCallContext context, string name) => Request(context).Headers[name];

    private static HttpRequest Request(ServerCallContext context) =>
        context is UnaryCallContext direct ? direct.Http.Request : context.GetHttpContext().Request;
}
