using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Parley.Server.Grpc;

/// <summary>
/// Answers a gRPC call that no endpoint matched as etcd's gRPC server does: status Unimplemented, "unknown service S"
/// or "unknown method M for service S", in a trailers-only response. (Grpc.AspNetCore's own catch-all routes for this
/// are turned off: every call was matched against them too, at the cost of allocating their route values.)
/// </summary>
internal sealed class UnknownGrpcCalls
{
    private const string GrpcContentType = "application/grpc";

    private readonly IEndpointRouteBuilder _routes;
    private HashSet<string>? _services;

    public UnknownGrpcCalls(IEndpointRouteBuilder routes) => _routes = routes;

    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (context.GetEndpoint() is not null || context.Request.ContentType?.StartsWith(GrpcContentType, StringComparison.Ordinal) != true)
        {
            return next(context);
        }
        var path = context.Request.Path.Value ?? "";
        var slash = path.LastIndexOf('/');
        var service = slash > 0 ? path[1..slash] : path.TrimStart('/');
        var method = slash > 0 ? path[(slash + 1)..] : "";
        var message = Services().Contains(service) ? $"unknown method {method} for service {service}" : $"unknown service {service}";
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcContentType;
        response.Headers["grpc-status"] = ((int)StatusCode.Unimplemented).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(message); // percent-encoded, as the gRPC protocol asks
        return Task.CompletedTask;
    }

    /// <summary>The gRPC services mapped (read once, on the first unknown call: the routes are all mapped by then).</summary>
    private HashSet<string> Services() => _services ??= _routes.DataSources
        .SelectMany(source => source.Endpoints)
        .Select(endpoint => endpoint.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.ServiceName)
        .OfType<string>()
        .ToHashSet(StringComparer.Ordinal);
}
