using Grpc.Core;

namespace Parley.Server.Grpc;

/// <summary>
/// One request header of a gRPC call, read from the HTTP request. <see cref="ServerCallContext.RequestHeaders"/> would
/// give the same value (a repeated header joined with commas) but copies every header of the call into a Metadata
/// collection first, on each call that asks.
/// </summary>
internal static class CallHeaders
{
    public static string? Get(ServerCallContext context, string name) => context.GetHttpContext().Request.Headers[name];
}
