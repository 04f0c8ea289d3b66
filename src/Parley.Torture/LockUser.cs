using System.Globalization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using LockPb = V3Lockpb;

namespace Parley.Torture;

/// <summary>
/// A client that repeatedly takes one shared lock and writes a guarded resource, as docs/fencing.md describes: grant a
/// session lease (TTL <see cref="LeaseTtlSeconds"/>) and keep it alive, take the lock (server-side v3lockpb.Lock, or
/// clientv3's Mutex recipe: create name/&lt;lease hex&gt; and wait until every older key under name/ is gone), read
/// the token (the lock key's create revision), write the resource one to three times through a Txn that compares
/// that create revision, unlock, revoke. One hold in four the holder "pauses" first: it stops its keepalives for
/// longer than the TTL, so the cluster expires its lease and may hand the lock on, and then writes with its old
/// token (the fence must refuse it). A broken user (<c>fenced: false</c>) writes with a plain put instead.
/// Every acquisition and write is recorded for <see cref="LockChecks"/>; the store's revision history is the judge.
/// </summary>
internal sealed class LockUser
{
    public const string LockName = "lock/mutex";
    public const string ResourceKey = "lock/resource";
    public const string AreaPrefix = "lock/";
    public const long LeaseTtlSeconds = 2;
    private const int HoldsMax = 400;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(6);

    private readonly int _id;
    private readonly LockFlavour _flavour;
    private readonly bool _fenced;
    private readonly ClusterEndpoints _endpoints;
    private readonly Random _random;
    private readonly Random _keepAliveRandom;
    private readonly RunClock _clock;
    private readonly List<LockHold> _holds = [];
    private readonly List<FencedWrite> _writes = [];
    private string _url;
    private int _sequence;

    public LockUser(int id, LockFlavour flavour, bool fenced, ClusterEndpoints endpoints, int seed, RunClock clock)
    {
        _id = id;
        _flavour = flavour;
        _fenced = fenced;
        _endpoints = endpoints;
        _random = new Random(seed);
        _keepAliveRandom = new Random(seed + 1);
        _clock = clock;
        _url = endpoints.At(id).Url;
    }

    public IReadOnlyList<LockHold> Holds => _holds;

    public IReadOnlyList<FencedWrite> Writes => _writes;

    /// <summary>Acquisitions that failed or timed out (the lock was contended, or the member was faulted).</summary>
    public int FailedAttempts { get; private set; }

    /// <summary>Why the last few attempts failed (for locks.log).</summary>
    public IReadOnlyList<string> Failures => _failures;

    private readonly List<string> _failures = [];

    public int Id => _id;

    public LockFlavour Flavour => _flavour;

    public static bool InLockArea(string key) => key.StartsWith(AreaPrefix, StringComparison.Ordinal);

    /// <summary>Holds the lock over and over until the time is up (at most <see cref="HoldsMax"/> times).</summary>
    public async Task RunAsync(TimeSpan duration, CancellationToken cancellation)
    {
        for (var round = 0; round < HoldsMax && _clock.Elapsed < duration && !cancellation.IsCancellationRequested; round++)
        {
            try
            {
                await HoldOnceAsync(duration, cancellation).ConfigureAwait(false);
            }
            catch (RpcException exception)
            {
                Failed($"{exception.StatusCode}: {exception.Status.Detail} (at {_url})");
                _url = _endpoints.Pick(_random).Url;
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                return;
            }
            await Task.Delay(50 + _random.Next(150), CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task HoldOnceAsync(TimeSpan duration, CancellationToken cancellation)
    {
        // Near the end of the load, wait less and do not pause: the run should end on time.
        var remaining = duration - _clock.Elapsed;
        var lockTimeout = remaining > LockTimeout ? LockTimeout : TimeSpan.FromSeconds(1) + (remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        using var channel = GrpcChannel.ForAddress(_url);
        var grant = await new Lease.LeaseClient(channel).LeaseGrantAsync(new LeaseGrantRequest { TTL = LeaseTtlSeconds },
            deadline: Deadline(CallTimeout), cancellationToken: cancellation).ConfigureAwait(false);
        var lease = grant.ID;
        using var keepingAlive = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var keepAlive = KeepAliveAsync(lease, keepingAlive.Token);
        try
        {
            var call = _clock.NowNs;
            var acquired = _flavour == LockFlavour.Server
                ? await LockServerSideAsync(channel, lease, lockTimeout, cancellation).ConfigureAwait(false)
                : await LockRecipeAsync(channel, lease, lockTimeout, cancellation).ConfigureAwait(false);
            if (acquired is not { } granted)
            {
                Failed("the lock key was gone at once, or the wait timed out");
                return;
            }
            var pause = TimeSpan.FromSeconds(LeaseTtlSeconds) + TimeSpan.FromMilliseconds(1000 + _random.Next(1000));
            var paused = _random.Next(4) == 0 && _clock.Elapsed + pause < duration;
            _holds.Add(new LockHold(_id, _flavour, granted.Key, granted.Revision, granted.Token, call, _clock.NowNs, paused));
            if (paused)
            {
                await keepingAlive.CancelAsync().ConfigureAwait(false);
                await Task.Delay(pause, cancellation).ConfigureAwait(false);
            }
            var writes = 1 + _random.Next(3);
            for (var i = 0; i < writes; i++)
            {
                if (!await WriteResourceAsync(channel, granted.Key, granted.Token, cancellation).ConfigureAwait(false))
                {
                    break; // refused (the lock is gone) or unknown: stop writing
                }
                await Task.Delay(20 + _random.Next(100), cancellation).ConfigureAwait(false);
            }
            await UnlockAsync(channel, granted.Key, cancellation).ConfigureAwait(false);
        }
        finally
        {
            await keepingAlive.CancelAsync().ConfigureAwait(false);
            await keepAlive.ConfigureAwait(false);
            await RevokeAsync(channel, lease).ConfigureAwait(false);
        }
    }

    /// <summary>v3lockpb.Lock with the session lease, then one read of the key for its create revision (the token).</summary>
    private async Task<(string Key, long Revision, long Token)?> LockServerSideAsync(GrpcChannel channel, long lease, TimeSpan timeout, CancellationToken cancellation)
    {
        var response = await new LockPb.Lock.LockClient(channel).LockAsync(new LockPb.LockRequest { Name = ByteString.CopyFromUtf8(LockName), Lease = lease },
            deadline: Deadline(timeout), cancellationToken: cancellation).ConfigureAwait(false);
        var key = response.Key.ToStringUtf8();
        var range = await new KV.KVClient(channel).RangeAsync(new RangeRequest { Key = response.Key },
            deadline: Deadline(CallTimeout), cancellationToken: cancellation).ConfigureAwait(false);
        return range.Kvs.Count == 0 ? null : (key, response.Header.Revision, range.Kvs[0].CreateRevision);
    }

    /// <summary>
    /// clientv3 concurrency.Mutex: create name/&lt;lease hex&gt; if absent (in one Txn with a read of the oldest key),
    /// then wait until no key under name/ older than ours is left (polled; bounded by the lock timeout).
    /// </summary>
    private async Task<(string Key, long Revision, long Token)?> LockRecipeAsync(GrpcChannel channel, long lease, TimeSpan timeout, CancellationToken cancellation)
    {
        var prefix = LockName + "/";
        var key = ByteString.CopyFromUtf8(prefix + lease.ToString("x", CultureInfo.InvariantCulture));
        var oldest = new RangeRequest
        {
            Key = ByteString.CopyFromUtf8(prefix), RangeEnd = ByteString.CopyFromUtf8(LockName + "0"), Limit = 1,
            SortTarget = RangeRequest.Types.SortTarget.Create, SortOrder = RangeRequest.Types.SortOrder.Ascend,
        };
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Lease = lease } });
        txn.Success.Add(new RequestOp { RequestRange = oldest });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = key } });
        txn.Failure.Add(new RequestOp { RequestRange = oldest });
        var kv = new KV.KVClient(channel);
        var created = await kv.TxnAsync(txn, deadline: Deadline(CallTimeout), cancellationToken: cancellation).ConfigureAwait(false);
        var token = created.Succeeded ? created.Header.Revision : created.Responses[0].ResponseRange.Kvs[0].CreateRevision;
        var owner = created.Responses[1].ResponseRange.Kvs;
        if (owner.Count == 0 || owner[0].CreateRevision == token)
        {
            return (key.ToStringUtf8(), created.Header.Revision, token);
        }
        var deadline = _clock.Elapsed + timeout;
        while (_clock.Elapsed < deadline)
        {
            // clientv3's waitDeletes: the newest key older than ours. (Not a count: etcd's count ignores max_create_revision.)
            var older = await kv.RangeAsync(new RangeRequest
            {
                Key = ByteString.CopyFromUtf8(prefix), RangeEnd = ByteString.CopyFromUtf8(LockName + "0"), MaxCreateRevision = token - 1, Limit = 1,
                SortTarget = RangeRequest.Types.SortTarget.Create, SortOrder = RangeRequest.Types.SortOrder.Descend,
            }, deadline: Deadline(CallTimeout), cancellationToken: cancellation).ConfigureAwait(false);
            if (older.Kvs.Count == 0)
            {
                return (key.ToStringUtf8(), older.Header.Revision, token);
            }
            await Task.Delay(50, cancellation).ConfigureAwait(false);
        }
        // Gave up waiting: leave the queue, as clientv3's Mutex does when its context ends.
        await kv.DeleteRangeAsync(new DeleteRangeRequest { Key = key }, deadline: Deadline(CallTimeout), cancellationToken: cancellation).ConfigureAwait(false);
        return null;
    }

    /// <summary>One write of the resource: a Txn guarded by the token (or, broken, a plain put). False: stop writing.</summary>
    private async Task<bool> WriteResourceAsync(GrpcChannel channel, string lockKey, long token, CancellationToken cancellation)
    {
        var value = string.Create(CultureInfo.InvariantCulture, $"u{_id}-{++_sequence} t{token}");
        var put = new PutRequest { Key = ByteString.CopyFromUtf8(ResourceKey), Value = ByteString.CopyFromUtf8(value) };
        var txn = new TxnRequest();
        if (_fenced)
        {
            txn.Compare.Add(new Compare
            {
                Key = ByteString.CopyFromUtf8(lockKey), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = token,
            });
        }
        txn.Success.Add(new RequestOp { RequestPut = put });
        var call = _clock.NowNs;
        try
        {
            var response = await new KV.KVClient(channel).TxnAsync(txn, deadline: Deadline(CallTimeout), cancellationToken: cancellation).ConfigureAwait(false);
            _writes.Add(new FencedWrite(_id, lockKey, value, token, _fenced, Acknowledged: true, response.Succeeded, response.Header.Revision, call, _clock.NowNs));
            return response.Succeeded;
        }
        catch (RpcException)
        {
            _writes.Add(new FencedWrite(_id, lockKey, value, token, _fenced, Acknowledged: false, Succeeded: null, 0, call, _clock.NowNs));
            throw;
        }
    }

    private async Task UnlockAsync(GrpcChannel channel, string lockKey, CancellationToken cancellation)
    {
        var key = ByteString.CopyFromUtf8(lockKey);
        if (_flavour == LockFlavour.Server)
        {
            await new LockPb.Lock.LockClient(channel).UnlockAsync(new LockPb.UnlockRequest { Key = key }, deadline: Deadline(CallTimeout), cancellationToken: cancellation).ConfigureAwait(false);
        }
        else
        {
            await new KV.KVClient(channel).DeleteRangeAsync(new DeleteRangeRequest { Key = key }, deadline: Deadline(CallTimeout), cancellationToken: cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>Best effort: a lease that is not revoked expires by itself (nobody keeps it alive any more).</summary>
    private static async Task RevokeAsync(GrpcChannel channel, long lease)
    {
        try
        {
            await new Lease.LeaseClient(channel).LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, deadline: Deadline(CallTimeout)).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // expired already, or the member is faulted
        }
    }

    /// <summary>
    /// Keeps the lease alive every half second over a LeaseKeepAlive stream, moving to another member when an answer
    /// is late (a paused member must not make the holder lose its lock), until stopped or the lease is gone (TTL 0).
    /// </summary>
    private async Task KeepAliveAsync(long lease, CancellationToken stop)
    {
        var url = _url;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var channel = GrpcChannel.ForAddress(url);
                using var stream = new Lease.LeaseClient(channel).LeaseKeepAlive(cancellationToken: stop);
                while (!stop.IsCancellationRequested)
                {
                    await stream.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = lease }, stop).ConfigureAwait(false);
                    using var late = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    late.CancelAfter(TimeSpan.FromSeconds(1));
                    if (!await stream.ResponseStream.MoveNext(late.Token).ConfigureAwait(false) || stream.ResponseStream.Current.TTL <= 0)
                    {
                        return; // the lease is gone: nothing left to keep alive
                    }
                    await Task.Delay(500, stop).ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (exception is RpcException or OperationCanceledException or IOException)
            {
                if (stop.IsCancellationRequested)
                {
                    return;
                }
                url = _endpoints.Pick(_keepAliveRandom).Url;
            }
        }
    }

    private void Failed(string why)
    {
        FailedAttempts++;
        if (_failures.Count < 20)
        {
            _failures.Add(string.Create(CultureInfo.InvariantCulture, $"{_clock.NowNs} ns: {why}"));
        }
    }

    private static DateTime Deadline(TimeSpan timeout) => DateTime.UtcNow + timeout;
}
