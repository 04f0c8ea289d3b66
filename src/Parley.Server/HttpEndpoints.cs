using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Parley.Mvcc;
using Parley.Node;
using Parley.Server.Grpc;
using Parley.Server.Peer;

namespace Parley.Server;

/// <summary>etcd's plain HTTP endpoints on the client port: /health, /version, /livez, /readyz, /metrics.</summary>
internal static class HttpEndpoints
{
    private static readonly TimeSpan HealthReadTimeout = TimeSpan.FromSeconds(1);

    public static void MapEtcdHttp(this IEndpointRouteBuilder app, NodeGateway gateway, PeerMetrics peers)
    {
        app.MapGet("/health", async context =>
        {
            var excluded = context.Request.Query["exclude"].Select(name => name ?? "").ToHashSet(StringComparer.Ordinal);
            var healthy = await IsHealthyAsync(gateway, excluded).ConfigureAwait(false);
            context.Response.StatusCode = healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(healthy ? "{\"health\":\"true\"}" : "{\"health\":\"false\"}\n").ConfigureAwait(false);
        });
        app.MapGet("/version", async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($"{{\"etcdserver\":\"{MaintenanceService.EtcdVersion}\",\"etcdcluster\":\"3.4.0\"}}").ConfigureAwait(false);
        });
        app.MapGet("/livez", async context =>
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("ok").ConfigureAwait(false);
        });
        app.MapGet("/readyz", async context =>
        {
            var ready = gateway.Status.HasLeader;
            context.Response.StatusCode = ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(ready ? "ok" : "[-]leader failed: etcdserver: no leader\n").ConfigureAwait(false);
        });
        app.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await context.Response.WriteAsync(gateway.Metrics.Render(gateway.Status, gateway.Options, gateway.Directory, peers)).ConfigureAwait(false);
        });
    }

    /// <summary>As etcd: no alarm raised (except those in ?exclude=NOSPACE), a leader, and a linearizable read that completes within a second.</summary>
    private static async Task<bool> IsHealthyAsync(NodeGateway gateway, HashSet<string> excludedAlarms)
    {
        var status = gateway.Status;
        if (status.Alarms.Any(alarm => !excludedAlarms.Contains(MaintenanceService.AlarmName(alarm.Alarm))) || !status.HasLeader)
        {
            return false;
        }
        var read = gateway.ReadAsync(new RangeRequest { Key = "health"u8.ToArray() });
        var finished = await Task.WhenAny(read, Task.Delay(HealthReadTimeout)).ConfigureAwait(false);
        return finished == read && read.Result.Error == NodeError.None;
    }
}
