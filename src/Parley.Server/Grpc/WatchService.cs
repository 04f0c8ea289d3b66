using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Parley.Node;
using Parley.Server.Watch;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Grpc;

/// <summary>
/// etcdserverpb.Watch: one <see cref="WatchStream"/> per call. Requests are read ahead into a bounded queue; the
/// stream ends when the client goes away (Canceled "etcdserver: watch canceled"), the member stops (Unavailable
/// "etcdserver: server stopped"), or a hasleader stream loses its leader (Unavailable "etcdserver: no leader").
/// </summary>
internal sealed class WatchService(NodeGateway gateway, IHostApplicationLifetime lifetime) : EtcdPb.Watch.WatchBase
{
    public override async Task Watch(IAsyncStreamReader<EtcdPb.WatchRequest> requestStream, IServerStreamWriter<EtcdPb.WatchResponse> responseStream, ServerCallContext context)
    {
        gateway.RequireLeaderIfAsked(context);
        var requireLeader = CallHeaders.Get(context, "hasleader") == "true";
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var requests = Channel.CreateBounded<EtcdPb.WatchRequest>(new BoundedChannelOptions(WatchStream.RequestsQueuedMax)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var stream = new WatchStream(gateway, response => responseStream.WriteAsync(response, stopping.Token), (key, rangeEnd) => gateway.MayRead(context, key, rangeEnd ?? []));
        gateway.Metrics.WatchStreamOpened();
        var reading = ReadRequestsAsync(requestStream, requests.Writer, stopping.Token);
        try
        {
            await stream.RunAsync(requests.Reader, requireLeader, stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw NodeGateway.Failure(NodeError.Stopped);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.Cancelled, "etcdserver: watch canceled"));
        }
        catch (ChannelClosedException closed) when (closed.InnerException is RpcException failure)
        {
            throw failure; // reading the client's requests failed (e.g. a message over the size limit)
        }
        finally
        {
            await stopping.CancelAsync().ConfigureAwait(false);
            await reading.ConfigureAwait(false);
            gateway.Metrics.WatchStreamClosed();
        }
    }

    private static async Task ReadRequestsAsync(IAsyncStreamReader<EtcdPb.WatchRequest> requestStream, ChannelWriter<EtcdPb.WatchRequest> requests, CancellationToken cancellation)
    {
        try
        {
            while (await requestStream.MoveNext(cancellation).ConfigureAwait(false))
            {
                await requests.WriteAsync(requestStream.Current, cancellation).ConfigureAwait(false);
            }
            requests.TryComplete();
        }
        catch (OperationCanceledException)
        {
            requests.TryComplete();
        }
        catch (Exception exception) when (exception is RpcException or IOException or InvalidOperationException)
        {
            requests.TryComplete(exception);
        }
    }
}
