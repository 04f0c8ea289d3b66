using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Tests;

/// <summary>
/// A <see cref="MemberServer"/> in the test process on free 127.0.0.1 ports, with a gRPC channel to it (Parley's own
/// generated client stubs). Alone by default (a one-member cluster that elects itself); with
/// <c>clusterSize</c> &gt; 1 only this member runs, so it never has a leader.
/// </summary>
public sealed class InProcessMember : IAsyncDisposable
{
    private readonly string _root;

    private InProcessMember(string root, MemberServer server, GrpcChannel channel)
    {
        _root = root;
        Server = server;
        Channel = channel;
        Kv = new EtcdPb.KV.KVClient(channel);
        Watch = new EtcdPb.Watch.WatchClient(channel);
    }

    public MemberServer Server { get; }

    /// <summary>The member's client URL (http://127.0.0.1:port).</summary>
    public required Uri ClientUrl { get; init; }

    public GrpcChannel Channel { get; }

    public EtcdPb.KV.KVClient Kv { get; }

    public EtcdPb.Watch.WatchClient Watch { get; }

    /// <param name="beforeStart">runs with the member's options before it starts (e.g. to restore its data directory)</param>
    /// <param name="directUnaryCalls">false: the unary KV calls go through Grpc.AspNetCore too (<see cref="ServerOptions.DirectUnaryCalls"/>)</param>
    public static async Task<InProcessMember> StartAsync(IReadOnlyDictionary<string, string>? extraFlags = null, int clusterSize = 1, Action<ServerOptions>? beforeStart = null,
        bool directUnaryCalls = true)
    {
        var root = Path.Combine(Path.GetTempPath(), "parley-inproc-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        var ports = LocalPorts.Free(1 + clusterSize);
        var peers = Enumerable.Range(0, clusterSize).Select(i => $"m{i + 1}=http://127.0.0.1:{ports[1 + i]}");
        var flags = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["name"] = "m1",
            ["data-dir"] = Path.Combine(root, "m1"),
            ["listen-client-urls"] = $"http://127.0.0.1:{ports[0]}",
            ["listen-peer-urls"] = $"http://127.0.0.1:{ports[1]}",
            ["initial-cluster"] = string.Join(",", peers),
            ["initial-cluster-token"] = "parley-inproc",
            ["log-level"] = "warn",
        };
        foreach (var (flag, value) in extraFlags ?? new Dictionary<string, string>())
        {
            flags[flag] = value;
        }
        var options = ServerOptionsBuilder.Build(flags) with { DirectUnaryCalls = directUnaryCalls };
        beforeStart?.Invoke(options);
        var server = await MemberServer.StartAsync(options);
        var clientUrl = new Uri($"http://127.0.0.1:{ports[0]}");
        var channel = GrpcChannel.ForAddress(clientUrl, new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
        var member = new InProcessMember(root, server, channel) { ClientUrl = clientUrl };
        if (clusterSize == 1)
        {
            LocalCluster.WaitUntil(() => server.Status.IsLeader, TimeSpan.FromSeconds(30), "the single member leads");
        }
        return member;
    }

    public static CallOptions Deadline(int seconds = 15) => new(deadline: DateTime.UtcNow.AddSeconds(seconds));

    public async Task<long> PutAsync(string key, string value) =>
        (await Kv.PutAsync(new EtcdPb.PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8(key), Value = Google.Protobuf.ByteString.CopyFromUtf8(value) }, Deadline())).Header.Revision;

    public async Task<long> DeleteAsync(string key, string rangeEnd = "") =>
        (await Kv.DeleteRangeAsync(new EtcdPb.DeleteRangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8(key), RangeEnd = Google.Protobuf.ByteString.CopyFromUtf8(rangeEnd) }, Deadline())).Header.Revision;

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // leave it for the OS temp cleaner
        }
    }
}

/// <summary>
/// One open Watch stream: send requests; responses are read in the background (once <see cref="StartReading"/> ran,
/// which the constructor does unless asked not to) and taken with a bounded wait.
/// </summary>
public sealed class WatchSession : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<EtcdPb.WatchRequest, EtcdPb.WatchResponse> _call;
    private readonly CancellationTokenSource _cancel = new();
    private readonly System.Threading.Channels.Channel<EtcdPb.WatchResponse> _responses =
        System.Threading.Channels.Channel.CreateBounded<EtcdPb.WatchResponse>(100_000);
    private Task? _reading;

    public WatchSession(EtcdPb.Watch.WatchClient client, Metadata? headers = null, bool startReading = true)
    {
        _call = client.Watch(headers, cancellationToken: _cancel.Token);
        if (startReading)
        {
            StartReading();
        }
    }

    /// <summary>How the stream ended (null while it runs): the status the server gave.</summary>
    public RpcException? Failure { get; private set; }

    public void StartReading() => _reading ??= Task.Run(ReadAsync);

    public Task SendAsync(EtcdPb.WatchRequest request) => _call.RequestStream.WriteAsync(request);

    public Task CreateAsync(EtcdPb.WatchCreateRequest create) => SendAsync(new EtcdPb.WatchRequest { CreateRequest = create });

    public Task CancelAsync(long watchId) => SendAsync(new EtcdPb.WatchRequest { CancelRequest = new EtcdPb.WatchCancelRequest { WatchId = watchId } });

    public Task RequestProgressAsync() => SendAsync(new EtcdPb.WatchRequest { ProgressRequest = new EtcdPb.WatchProgressRequest() });

    public async Task<EtcdPb.WatchResponse> NextAsync(int timeoutSeconds = 15)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            return await _responses.Reader.ReadAsync(timeout.Token);
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            throw new InvalidOperationException("the watch stream ended: " + Failure?.Status);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"no watch response within {timeoutSeconds} s");
        }
    }

    /// <summary>Null when nothing arrives within the wait.</summary>
    public async Task<EtcdPb.WatchResponse?> NextOrNullAsync(TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            return await _responses.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Waits until the stream ends and returns the server's status.</summary>
    public async Task<RpcException> EndAsync(int timeoutSeconds = 30)
    {
        await (_reading ?? Task.CompletedTask).WaitAsync(TimeSpan.FromSeconds(timeoutSeconds));
        return Failure ?? throw new InvalidOperationException("the stream ended without an error");
    }

    private async Task ReadAsync()
    {
        try
        {
            while (await _call.ResponseStream.MoveNext(_cancel.Token))
            {
                await _responses.Writer.WriteAsync(_call.ResponseStream.Current);
            }
        }
        catch (RpcException exception)
        {
            Failure = exception;
        }
        finally
        {
            _responses.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cancel.CancelAsync();
        if (_reading is not null)
        {
            await _reading.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        _call.Dispose();
        _cancel.Dispose();
    }
}
