using Grpc.Core;
using Grpc.Health.V1;

namespace Parley.Server.Grpc;

/// <summary>grpc.health.v1.Health: the server ("" service) is SERVING while it runs, as etcd 3.4 reports it.</summary>
internal sealed class HealthService : Health.HealthBase
{
    public override Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context) =>
        Task.FromResult(new HealthCheckResponse { Status = HealthCheckResponse.Types.ServingStatus.Serving });

    public override async Task Watch(HealthCheckRequest request, IServerStreamWriter<HealthCheckResponse> responseStream, ServerCallContext context)
    {
        await responseStream.WriteAsync(new HealthCheckResponse { Status = HealthCheckResponse.Types.ServingStatus.Serving }).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // the client went away
        }
    }
}
