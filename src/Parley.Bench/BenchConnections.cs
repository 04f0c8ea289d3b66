using Etcdserverpb;
using System.Globalization;
using Grpc.Net.Client;
using Parley.Bench.Wire;

namespace Parley.Bench;

/// <summary>
/// The run's gRPC channels: one per connection (each channel has its own handler, so its own HTTP/2 connection),
/// assigned round-robin over the endpoints; clients take channel <c>client mod connections</c>. With the lean client
/// (the default), each connection's unary calls go over a <see cref="LeanCallInvoker"/> instead, and its channel
/// carries only streams (watch, lease keep-alive).
/// </summary>
public sealed class BenchConnections : IDisposable
{
    private const int MessageBytesMax = 64 * 1024 * 1024;

    private readonly GrpcChannel[] _channels;

    private readonly LeanCallInvoker?[] _lean;

    public BenchConnections(IReadOnlyList<string> endpoints, int connections, GrpcClientKind client = GrpcClientKind.Lean)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(connections, 1);
        ArgumentOutOfRangeException.ThrowIfZero(endpoints.Count);
        _channels = new GrpcChannel[connections];
        Endpoints = new string[connections];
        Kv = new KV.KVClient[connections];
        _lean = new LeanCallInvoker?[connections];
        for (var i = 0; i < connections; i++)
        {
            Endpoints[i] = endpoints[i % endpoints.Count];
            var handler = new SocketsHttpHandler
            {
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                // Kestrel allows 100 streams per connection: past that (watchers), open another rather than queue
                EnableMultipleHttp2Connections = true,
            };
            _channels[i] = GrpcChannel.ForAddress("http://" + Endpoints[i], new GrpcChannelOptions
            {
                HttpHandler = handler,
                DisposeHttpClient = true,
                MaxReceiveMessageSize = MessageBytesMax,
                MaxSendMessageSize = MessageBytesMax,
            });
            if (client == GrpcClientKind.Lean)
            {
                var colon = Endpoints[i].LastIndexOf(':');
                _lean[i] = new LeanCallInvoker(Endpoints[i][..colon].Trim('[', ']'), int.Parse(Endpoints[i][(colon + 1)..], CultureInfo.InvariantCulture), _channels[i].CreateCallInvoker());
                Kv[i] = new KV.KVClient(_lean[i]);
            }
            else
            {
                Kv[i] = new KV.KVClient(_channels[i]);
            }
        }
    }

    /// <summary>The endpoint of each connection.</summary>
    public string[] Endpoints { get; }

    public KV.KVClient[] Kv { get; }

    public int Count => _channels.Length;

    public KV.KVClient KvFor(int client) => Kv[client % Kv.Length];

    public Lease.LeaseClient LeaseFor(int client) => new(_channels[client % _channels.Length]);

    public Watch.WatchClient WatchFor(int watcher) => new(_channels[watcher % _channels.Length]);

    public GrpcChannel ChannelFor(int client) => _channels[client % _channels.Length];

    public void Dispose()
    {
        foreach (var lean in _lean)
        {
            lean?.Dispose();
        }
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }
}
