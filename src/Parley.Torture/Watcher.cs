using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Parley.Torture;

/// <summary>
/// A watcher of the whole keyspace from revision 1, kept open through the faults: when its stream breaks (member
/// killed, paused past the deadline, removed), it resumes on another current voter from the revision after the last
/// one it saw, as a careful etcd client does. It records every event with the response it came in, for <see cref="WatchChecks"/>.
/// </summary>
internal sealed class Watcher
{
    private readonly int _id;
    private readonly ClusterEndpoints _endpoints;
    private readonly Random _random;
    private readonly List<WatchedEvent> _events = [];
    private readonly List<string> _notes = [];
    private long _nextRevision = 1;
    private int _responseNumber;

    public Watcher(int id, ClusterEndpoints endpoints, int seed)
    {
        _id = id;
        _endpoints = endpoints;
        _random = new Random(seed);
    }

    public int Id => _id;

    public IReadOnlyList<WatchedEvent> Events => _events;

    /// <summary>Cancellations and other things the server said that a watch of an uncompacted store should never hear.</summary>
    public IReadOnlyList<string> Notes => _notes;

    public int Reconnects { get; private set; }

    /// <summary>The next revision this watcher waits for (everything before it has been delivered).</summary>
    public long NextRevision => Interlocked.Read(ref _nextRevision);

    public async Task RunAsync(CancellationToken stop)
    {
        var member = _endpoints.At(_id);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await WatchOnceAsync(member, stop).ConfigureAwait(false);
            }
            catch (RpcException) when (!stop.IsCancellationRequested)
            {
                // the member went away or the stream broke: resume elsewhere
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException)
            {
                return;
            }
            if (stop.IsCancellationRequested)
            {
                return;
            }
            Reconnects++;
            try
            {
                await Task.Delay(100 + _random.Next(300), stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            member = _endpoints.Pick(_random);
        }
    }

    private async Task WatchOnceAsync(Endpoint endpoint, CancellationToken stop)
    {
        var member = endpoint.Member;
        using var channel = GrpcChannel.ForAddress(endpoint.Url);
        using var call = new Watch.WatchClient(channel).Watch(cancellationToken: stop);
        await call.RequestStream.WriteAsync(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest
            {
                Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0), StartRevision = NextRevision,
            },
        }, stop).ConfigureAwait(false);
        while (await call.ResponseStream.MoveNext(stop).ConfigureAwait(false))
        {
            var response = call.ResponseStream.Current;
            if (response.Canceled)
            {
                _notes.Add($"watcher {_id} on member {member}: watch canceled at revision {NextRevision} (compact revision {response.CompactRevision}, reason '{response.CancelReason}')");
                return;
            }
            if (response.Events.Count == 0)
            {
                continue;
            }
            var number = ++_responseNumber;
            long last = 0;
            foreach (var watched in response.Events)
            {
                var kv = watched.Kv;
                var value = watched.Type == Mvccpb.Event.Types.EventType.Delete ? null : kv.Value.ToStringUtf8();
                _events.Add(new WatchedEvent(kv.ModRevision, kv.Key.ToStringUtf8(), value, number, member));
                last = Math.Max(last, kv.ModRevision);
            }
            Interlocked.Exchange(ref _nextRevision, Math.Max(NextRevision, last + 1));
        }
    }
}

/// <summary>One event as a watcher received it: revision, key, value (null = delete), which response, which member.</summary>
internal readonly record struct WatchedEvent(long Revision, string Key, string? Value, int Response, int Member);
