using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Parley.Mvcc;
using Parley.Node;
using Parley.Server.Grpc;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Watch;

/// <summary>
/// One etcdserverpb.Watch/Watch stream: many watchers, one loop that alone writes to the client. Each round it
/// handles the requests that arrived (create, cancel, progress, in order), then lets every watcher send at most one
/// response (round robin), then runs the progress and leader timers; when nothing is ready it waits for a request,
/// a publish of the <see cref="RevisionFeed"/>, or a timer. Because the same loop sends created replies and
/// events, no event of a watcher can precede its created reply. A watcher's events come from the feed's ring
/// while it is synced and from history when it is behind (a slow client only delays its own stream: sending
/// awaits the transport, and memory stays one response per stream).
/// </summary>
internal sealed partial class WatchStream
{
    /// <summary>Requests read ahead of the loop; beyond this the client is flow-controlled.</summary>
    public const int RequestsQueuedMax = 256;

    /// <summary>Watchers one stream may hold (etcd has no limit; a bound keeps one client from taking all memory).</summary>
    public const int WatchersPerStreamMax = 100_000;

    /// <summary>Events in one response (etcd's catch-up batches up to 1000 revisions), never splitting a revision.</summary>
    public const int ResponseEventsMax = 1000;

    /// <summary>Bytes (keys and values) after which a response stops taking further revisions.</summary>
    public const long ResponseBytesTarget = 1024 * 1024;

    /// <summary>Wait after "too many requests" from the loop before a history read is tried again.</summary>
    private static readonly TimeSpan HistoryRetryDelay = TimeSpan.FromMilliseconds(100);

    private readonly NodeGateway _gateway;
    private readonly RevisionFeed _feed;
    private readonly Func<EtcdPb.WatchResponse, Task> _sendAsync;
    private readonly Dictionary<long, Watcher> _watchers = [];
    private readonly List<Watcher> _order = [];
    private readonly long _progressIntervalMs;
    private readonly int _fragmentBytesMin;
    private readonly Func<byte[], byte[]?, bool> _mayRead;
    private long _nextWatchId;
    private long _progressTarget;
    private int _progressRequests;

    /// <param name="gateway">The member.</param>
    /// <param name="sendAsync">Writes one response to the stream.</param>
    /// <param name="mayRead">With auth enabled, whether the stream's caller may read a watched key or range.</param>
    public WatchStream(NodeGateway gateway, Func<EtcdPb.WatchResponse, Task> sendAsync, Func<byte[], byte[]?, bool>? mayRead = null)
    {
        _gateway = gateway;
        _mayRead = mayRead ?? ((_, _) => true);
        _feed = gateway.Loop.Feed;
        _sendAsync = sendAsync;
        _progressIntervalMs = Math.Max(1, (long)gateway.Options.WatchProgressNotifyInterval.TotalMilliseconds);
        _fragmentBytesMin = gateway.Options.MaxRequestBytes + 512 * 1024;
    }

    public int WatcherCount => _watchers.Count;

    /// <summary>Runs until cancellation (the client went away or the server stops) or a stream-ending failure.</summary>
    public async Task RunAsync(ChannelReader<EtcdPb.WatchRequest> requests, bool requireLeader, CancellationToken cancellation)
    {
        using var attachment = _feed.Attach();
        var electionTimeoutMs = (long)_gateway.Options.ElectionTimeoutMs;
        var progressDueMs = Environment.TickCount64 + _progressIntervalMs;
        var leaderCheckDueMs = Environment.TickCount64 + electionTimeoutMs;
        var leaderlessChecks = 0;
        var requestsOpen = true;
        try
        {
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                while (requests.TryRead(out var request))
                {
                    await HandleAsync(request, cancellation).ConfigureAwait(false);
                }
                var ready = await PumpAllAsync(cancellation).ConfigureAwait(false);
                await AnswerProgressRequestsAsync().ConfigureAwait(false);
                var nowMs = Environment.TickCount64;
                if (nowMs >= progressDueMs)
                {
                    await ProgressTickAsync().ConfigureAwait(false);
                    progressDueMs = nowMs + _progressIntervalMs;
                }
                if (requireLeader && nowMs >= leaderCheckDueMs)
                {
                    // etcd cancels hasleader streams after 3 election timeouts without a leader.
                    leaderlessChecks = _gateway.Status.HasLeader ? 0 : leaderlessChecks + 1;
                    if (leaderlessChecks >= 3)
                    {
                        throw NodeGateway.Failure(NodeError.NoLeader);
                    }
                    leaderCheckDueMs = nowMs + electionTimeoutMs;
                }
                if (ready)
                {
                    continue;
                }
                var changed = _feed.Changed; // taken before the readiness check, so no publish is missed
                if (AnyWatcherReady())
                {
                    continue;
                }
                var waitMs = Math.Max(1, Math.Min(progressDueMs, requireLeader ? leaderCheckDueMs : long.MaxValue) - Environment.TickCount64);
                requestsOpen = await WaitAsync(changed, requestsOpen ? requests : null, waitMs, cancellation).ConfigureAwait(false);
            }
        }
        finally
        {
            _gateway.Metrics.WatchersRemoved(_watchers.Count);
        }
    }

    /// <summary>Waits for a publish, a request (false once the client closed its side), a timer or cancellation.</summary>
    private static async Task<bool> WaitAsync(Task changed, ChannelReader<EtcdPb.WatchRequest>? requests, long waitMs, CancellationToken cancellation)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        try
        {
            var publish = changed.WaitAsync(wait.Token);
            var timer = Task.Delay(TimeSpan.FromMilliseconds(Math.Min(waitMs, int.MaxValue)), wait.Token);
            if (requests is null)
            {
                await Task.WhenAny(publish, timer).ConfigureAwait(false);
                return false;
            }
            var request = requests.WaitToReadAsync(wait.Token).AsTask();
            var first = await Task.WhenAny(publish, timer, request).ConfigureAwait(false);
            if (first == request)
            {
                // false: the client closed its sending side; the stream still delivers events, as etcd's does.
                return await request.ConfigureAwait(false);
            }
            return true;
        }
        finally
        {
            await wait.CancelAsync().ConfigureAwait(false); // drops the timer and the registrations on shared tasks
        }
    }

    private bool AnyWatcherReady()
    {
        var revision = _feed.Revision;
        foreach (var watcher in _order)
        {
            if (watcher.NextRevision <= revision)
            {
                return true;
            }
        }
        return false;
    }

    private Task HandleAsync(EtcdPb.WatchRequest request, CancellationToken cancellation) => request.RequestUnionCase switch
    {
        EtcdPb.WatchRequest.RequestUnionOneofCase.CreateRequest => CreateAsync(request.CreateRequest, cancellation),
        EtcdPb.WatchRequest.RequestUnionOneofCase.CancelRequest => CancelAsync(request.CancelRequest.WatchId),
        EtcdPb.WatchRequest.RequestUnionOneofCase.ProgressRequest => ProgressRequestedAsync(cancellation),
        _ => Task.CompletedTask, // etcd ignores an empty request
    };

    private async Task CreateAsync(EtcdPb.WatchCreateRequest create, CancellationToken cancellation)
    {
        // etcd: an empty key is "\0" (the smallest key); range end "\0" means every key ≥ key.
        var key = create.Key.IsEmpty ? [0] : create.Key.ToByteArray();
        var rangeEnd = create.RangeEnd.IsEmpty ? null : create.RangeEnd.ToByteArray();
        var revision = await CurrentRevisionAsync(cancellation).ConfigureAwait(false);
        var failure = Validate(key, rangeEnd, create.WatchId);
        if (failure is not null)
        {
            await SendAsync(new EtcdPb.WatchResponse { Header = Header(revision), WatchId = -1, Created = true, Canceled = true, CancelReason = failure }).ConfigureAwait(false);
            return;
        }
        if (!_mayRead(key, rangeEnd))
        {
            // etcd 3.4 (isWatchPermitted): created and canceled, with the gRPC error's text as the reason.
            await SendAsync(new EtcdPb.WatchResponse
            {
                Header = Header(revision), WatchId = create.WatchId, Created = true, Canceled = true,
                CancelReason = "rpc error: code = PermissionDenied desc = " + MvccErrors.AuthPermissionDeniedMessage,
            }).ConfigureAwait(false);
            return;
        }
        var id = create.WatchId;
        if (id == 0)
        {
            while (_watchers.ContainsKey(_nextWatchId))
            {
                _nextWatchId++;
            }
            id = _nextWatchId++;
        }
        var watcher = new Watcher(
            id, key, rangeEnd, create.StartRevision == 0 ? revision + 1 : create.StartRevision, create.PrevKv, create.Fragment, create.ProgressNotify,
            noPut: create.Filters.Contains(EtcdPb.WatchCreateRequest.Types.FilterType.Noput),
            noDelete: create.Filters.Contains(EtcdPb.WatchCreateRequest.Types.FilterType.Nodelete));
        _watchers.Add(id, watcher);
        _order.Add(watcher);
        _gateway.Metrics.WatchersAdded(1);
        await SendAsync(new EtcdPb.WatchResponse { Header = Header(revision), WatchId = id, Created = true }).ConfigureAwait(false);
    }

    private string? Validate(byte[] key, byte[]? rangeEnd, long watchId)
    {
        if (rangeEnd is not null && !KeyBytes.IsFromKey(rangeEnd) && KeyBytes.Compare(key, rangeEnd) >= 0)
        {
            return "mvcc: watcher range is empty";
        }
        if (watchId != 0 && _watchers.ContainsKey(watchId))
        {
            return "mvcc: duplicate watch ID provided on the WatchStream";
        }
        if (_watchers.Count >= WatchersPerStreamMax)
        {
            return $"parley: too many watchers on one stream (at most {WatchersPerStreamMax})";
        }
        return null;
    }

    /// <summary>The store's revision now, read on the loop thread (after publishing, so the feed is not behind it).</summary>
    private async Task<long> CurrentRevisionAsync(CancellationToken cancellation)
    {
        var feed = _feed;
        try
        {
            return await _gateway.QueryAsync(node =>
            {
                feed.Publish(node.Store);
                return node.Store.Revision;
            }).WaitAsync(cancellation).ConfigureAwait(false);
        }
        catch (NodeUnavailableException exception)
        {
            throw NodeGateway.Failure(exception.Error);
        }
    }

    private async Task CancelAsync(long watchId)
    {
        if (!_watchers.Remove(watchId, out var watcher))
        {
            return; // etcd ignores unknown ids
        }
        _order.Remove(watcher);
        _gateway.Metrics.WatchersRemoved(1);
        await SendAsync(new EtcdPb.WatchResponse { Header = Header(_feed.Revision), WatchId = watchId, Canceled = true }).ConfigureAwait(false);
    }

    /// <summary>
    /// etcd 3.4 answers at once with watch_id -1 and the current revision. Here the revision is also the lowest up to
    /// which every watcher of the stream has been sent everything, so that the answer never claims more than was sent.
    /// </summary>
    /// <summary>
    /// A progress request is answered once every watcher has caught up with the revision current when it arrived,
    /// so the answer (watch id -1) promises that no event at or below its revision is still to come (etcd ≥ 3.5 waits
    /// for synced watchers the same way; 3.4 answered with the store's revision at once, which could precede events).
    /// </summary>
    private async Task ProgressRequestedAsync(CancellationToken cancellation)
    {
        var current = await CurrentRevisionAsync(cancellation).ConfigureAwait(false);
        _progressTarget = Math.Max(_progressTarget, current);
        _progressRequests++;
        await AnswerProgressRequestsAsync().ConfigureAwait(false);
    }

    private async Task AnswerProgressRequestsAsync()
    {
        if (_progressRequests == 0)
        {
            return;
        }
        var revision = Math.Max(_feed.Revision, _progressTarget);
        foreach (var watcher in _order)
        {
            revision = Math.Min(revision, watcher.NextRevision - 1);
        }
        if (revision < _progressTarget)
        {
            return; // some watcher is still behind; the loop answers after it has caught up
        }
        for (; _progressRequests > 0; _progressRequests--)
        {
            await SendAsync(new EtcdPb.WatchResponse { Header = Header(revision), WatchId = -1 }).ConfigureAwait(false);
        }
    }

    /// <summary>Periodic progress (progress_notify): to synced watchers that asked and got no events since the last tick.</summary>
    private async Task ProgressTickAsync()
    {
        var revision = _feed.Revision;
        foreach (var watcher in _order.ToArray())
        {
            if (watcher.ProgressNotify && !watcher.SentSinceProgressTick && watcher.NextRevision > revision && _watchers.ContainsKey(watcher.Id))
            {
                await SendAsync(new EtcdPb.WatchResponse { Header = Header(watcher.NextRevision - 1), WatchId = watcher.Id }).ConfigureAwait(false);
            }
            watcher.SentSinceProgressTick = false;
        }
    }

    /// <summary>Lets each watcher send at most one response; true when some watcher has more to send at once.</summary>
    private async Task<bool> PumpAllAsync(CancellationToken cancellation)
    {
        var more = false;
        foreach (var watcher in _order.ToArray())
        {
            if (_watchers.TryGetValue(watcher.Id, out var current) && current == watcher)
            {
                more |= await PumpAsync(watcher, cancellation).ConfigureAwait(false);
            }
        }
        return more;
    }

    private async Task<bool> PumpAsync(Watcher watcher, CancellationToken cancellation)
    {
        if (watcher.NextRevision > _feed.Revision)
        {
            return false;
        }
        FeedRead read;
        try
        {
            read = await _feed.ReadAsync(watcher.Query(ResponseEventsMax, ResponseBytesTarget), cancellation).ConfigureAwait(false);
        }
        catch (NodeUnavailableException exception) when (exception.Error == NodeError.TooManyRequests)
        {
            await Task.Delay(HistoryRetryDelay, cancellation).ConfigureAwait(false);
            return false;
        }
        catch (NodeUnavailableException exception)
        {
            throw NodeGateway.Failure(exception.Error);
        }
        if (read.Result.Error == MvccError.Compacted)
        {
            // etcd: canceled with the compact revision, empty reason, header revision 0; the watcher is dropped.
            _watchers.Remove(watcher.Id);
            _order.Remove(watcher);
            _gateway.Metrics.WatchersRemoved(1);
            await SendAsync(new EtcdPb.WatchResponse { Header = Header(0), WatchId = watcher.Id, Canceled = true, CompactRevision = read.Result.CompactRevision }).ConfigureAwait(false);
            return false;
        }
        Invariant(read.Result.NextRevision > watcher.NextRevision || read.Result.NextRevision > _feed.Revision || read.Events.Count > 0, "a watcher read makes progress");
        var response = new EtcdPb.WatchResponse { WatchId = watcher.Id };
        foreach (var mvccEvent in read.Events)
        {
            Invariant(mvccEvent.Kv.ModRevision >= watcher.NextRevision, "a watcher never gets an event twice");
            if (watcher.Wants(mvccEvent))
            {
                response.Events.Add(ToProto(mvccEvent, watcher.PrevKv));
            }
        }
        watcher.NextRevision = Math.Max(watcher.NextRevision, read.Result.NextRevision);
        if (response.Events.Count > 0)
        {
            response.Header = Header(watcher.NextRevision - 1);
            watcher.SentSinceProgressTick = true;
            await SendEventsAsync(response, watcher.Fragment).ConfigureAwait(false);
        }
        return watcher.NextRevision <= _feed.Revision;
    }

    /// <summary>etcd's sendFragments: a response over max-request-bytes + 512 KiB with two or more events is split when asked.</summary>
    private async Task SendEventsAsync(EtcdPb.WatchResponse response, bool fragment)
    {
        if (!fragment || response.Events.Count < 2 || response.CalculateSize() < _fragmentBytesMin)
        {
            await SendAsync(response).ConfigureAwait(false);
            return;
        }
        var baseBytes = new EtcdPb.WatchResponse { Header = response.Header, WatchId = response.WatchId, Fragment = true }.CalculateSize();
        var index = 0;
        while (index < response.Events.Count)
        {
            var part = new EtcdPb.WatchResponse { Header = response.Header, WatchId = response.WatchId, Fragment = true };
            var bytes = baseBytes;
            while (index < response.Events.Count)
            {
                var eventBytes = 1 + CodedOutputStream.ComputeMessageSize(response.Events[index]);
                if (part.Events.Count > 0 && bytes + eventBytes >= _fragmentBytesMin)
                {
                    break;
                }
                part.Events.Add(response.Events[index]);
                bytes += eventBytes;
                index++;
            }
            part.Fragment = index < response.Events.Count;
            await SendAsync(part).ConfigureAwait(false);
        }
    }

    private Task SendAsync(EtcdPb.WatchResponse response) => _sendAsync(response);

    private EtcdPb.ResponseHeader Header(long revision) => _gateway.Header(revision, _gateway.Status.Term);

    private static Mvccpb.Event ToProto(MvccEvent mvccEvent, bool prevKv) => new()
    {
        Type = mvccEvent.Type == EventType.Delete ? Mvccpb.Event.Types.EventType.Delete : Mvccpb.Event.Types.EventType.Put,
        Kv = ProtoMapper.ToProto(mvccEvent.Kv),
        PrevKv = prevKv && mvccEvent.PrevKv is { } previous ? ProtoMapper.ToProto(previous) : null,
    };

    private static void Invariant(bool condition, string what)
    {
        if (!condition)
        {
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.Internal, "parley: invariant violated: " + what));
        }
    }
}
