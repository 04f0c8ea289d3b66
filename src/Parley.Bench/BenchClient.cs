using System.Buffers.Binary;
using System.Diagnostics;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Parley.Bench;

/// <summary>
/// One client: issues the workload's operations one at a time on its connection and checks each answer
/// (a get must return its key, a range its 100 or 1,000 keys), counting what it did in its own histogram.
/// </summary>
internal sealed class BenchClient : IAsyncDisposable
{
    private readonly int _index;
    private readonly BenchOptions _options;
    private readonly KeySpace _keys;
    private readonly KV.KVClient _kv;
    private readonly ByteString _value;
    private readonly Random _random;
    private readonly long[] _casRevisions;
    private readonly int _clients;

    public BenchClient(int index, int clients, BenchOptions options, KeySpace keys, KV.KVClient kv, ByteString value)
    {
        _index = index;
        _clients = clients;
        _options = options;
        _keys = keys;
        _kv = kv;
        _value = value;
        _random = new Random(HashCode.Combine(options.Seed, index));
        // Compare-and-swap: this client owns keys index, index + clients, ...; it remembers each one's mod_revision.
        _casRevisions = options.Workload == Workload.TxnCas
            ? new long[Math.Max(0, (keys.KeyCount - index + clients - 1) / clients)]
            : [];
    }

    public LatencyHistogram Latency { get; } = new();

    public LatencyHistogram ServiceTime { get; } = new();

    public long Reads { get; private set; }

    public long Writes { get; private set; }

    public long TxnSucceeded { get; private set; }

    public long TxnFailed { get; private set; }

    public long KeysRead { get; private set; }

    private long _sequence;
    private long[] _leases = [];
    private Lease.LeaseClient? _leaseClient;
    private AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse>? _keepAlive;

    public long KeepAlives { get; private set; }

    /// <summary>Lease workload: grants this client's leases (before the measured phase).</summary>
    public async Task GrantLeasesAsync(Lease.LeaseClient client, int count, int ttlSeconds, CancellationToken cancellationToken)
    {
        _leaseClient = client;
        _leases = new long[count];
        for (var i = 0; i < count; i++)
        {
            var response = await client.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttlSeconds }, Call(cancellationToken)).ConfigureAwait(false);
            if (response.ID == 0 || !string.IsNullOrEmpty(response.Error))
            {
                throw new BenchCheckException($"lease grant returned id {response.ID}, error '{response.Error}'");
            }
            _leases[i] = response.ID;
        }
    }

    /// <summary>Sends one operation and waits for its answer; throws RpcException or BenchCheckException on failure.</summary>
    public Task ExecuteAsync(CancellationToken cancellationToken)
    {
        var sequence = _sequence++;
        return _options.Workload switch
        {
            Workload.Put => PutAsync(RandomKey(), cancellationToken),
            Workload.Get => GetAsync(serializable: false, cancellationToken),
            Workload.GetSerializable => GetAsync(serializable: true, cancellationToken),
            Workload.Range100 => RangeAsync(100, cancellationToken),
            Workload.Range1000 => RangeAsync(1000, cancellationToken),
            Workload.TxnCas => CompareAndSwapAsync(sequence, cancellationToken),
            Workload.Watch => PutTimestampedAsync(RandomKey(), cancellationToken),
            Workload.LeaseKeepAlive => KeepAliveAsync(sequence, cancellationToken),
            Workload.Mixed => _random.NextDouble() < _options.ReadRatio
                ? GetAsync(serializable: false, cancellationToken)
                : PutAsync(RandomKey(), cancellationToken),
            _ => throw new InvalidOperationException("unknown workload " + _options.Workload),
        };
    }

    private long RandomKey() => _random.NextInt64(_keys.KeyCount);

    private CallOptions Call(CancellationToken cancellationToken) =>
        new(deadline: DateTime.UtcNow + _options.RequestTimeout, cancellationToken: cancellationToken);

    private async Task PutAsync(long key, CancellationToken cancellationToken)
    {
        await _kv.PutAsync(new PutRequest { Key = _keys.Key(key), Value = _value }, Call(cancellationToken)).ConfigureAwait(false);
        Writes++;
    }

    /// <summary>One keep-alive of this client's next lease on its own stream; the answer must name the lease with a live TTL.</summary>
    private async Task KeepAliveAsync(long sequence, CancellationToken cancellationToken)
    {
        if (_leaseClient is null || _leases.Length == 0)
        {
            throw new InvalidOperationException("lease-keepalive client without granted leases");
        }
        _keepAlive ??= _leaseClient.LeaseKeepAlive(cancellationToken: cancellationToken);
        var lease = _leases[sequence % _leases.Length];
        try
        {
            await _keepAlive.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = lease }, cancellationToken).ConfigureAwait(false);
            if (!await _keepAlive.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                throw new BenchCheckException("the server ended the keep-alive stream");
            }
        }
        catch (Exception) when (_keepAlive is not null)
        {
            // a broken stream is replaced by a new one on the next operation
            _keepAlive.Dispose();
            _keepAlive = null;
            throw;
        }
        var response = _keepAlive.ResponseStream.Current;
        if (response.ID != lease || response.TTL <= 0)
        {
            throw new BenchCheckException($"keep-alive of lease {lease} answered id {response.ID} ttl {response.TTL} (expired or unknown?)");
        }
        KeepAlives++;
    }

    public async ValueTask DisposeAsync()
    {
        if (_keepAlive is { } call)
        {
            try
            {
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is RpcException or InvalidOperationException or IOException)
            {
                // the stream is already broken or closed
            }
            call.Dispose();
            _keepAlive = null;
        }
    }

    /// <summary>A put whose value starts with its send timestamp, so that watchers can time its delivery.</summary>
    private async Task PutTimestampedAsync(long key, CancellationToken cancellationToken)
    {
        var value = new byte[_value.Length];
        _value.Span.CopyTo(value);
        BinaryPrimitives.WriteInt64LittleEndian(value, Stopwatch.GetTimestamp());
        await _kv.PutAsync(new PutRequest { Key = _keys.Key(key), Value = UnsafeByteOperations.UnsafeWrap(value) }, Call(cancellationToken)).ConfigureAwait(false);
        Writes++;
    }

    private async Task GetAsync(bool serializable, CancellationToken cancellationToken)
    {
        var key = _keys.Key(RandomKey());
        var response = await _kv.RangeAsync(new RangeRequest { Key = key, Serializable = serializable }, Call(cancellationToken)).ConfigureAwait(false);
        Reads++;
        if (response.Kvs.Count != 1 || response.Kvs[0].Key != key)
        {
            throw new BenchCheckException($"get {key.ToStringUtf8()} returned {response.Kvs.Count} keys, expected the key itself (was the key space preloaded?)");
        }
        KeysRead++;
    }

    private async Task RangeAsync(int keysPerRange, CancellationToken cancellationToken)
    {
        var (key, rangeEnd) = _keys.PrefixRange(_random.NextInt64(_keys.GroupCount(keysPerRange)), keysPerRange);
        var response = await _kv.RangeAsync(new RangeRequest { Key = key, RangeEnd = rangeEnd }, Call(cancellationToken)).ConfigureAwait(false);
        Reads++;
        if (response.Kvs.Count != keysPerRange)
        {
            throw new BenchCheckException($"range of prefix {key.ToStringUtf8()} returned {response.Kvs.Count} keys, expected {keysPerRange} (was the key space preloaded?)");
        }
        KeysRead += response.Kvs.Count;
    }

    private async Task CompareAndSwapAsync(long sequence, CancellationToken cancellationToken)
    {
        if (_casRevisions.Length == 0)
        {
            // more clients than keys: this client shares key index mod key count with others (contention)
            await CompareAndSwapKeyAsync(_index % _keys.KeyCount, null, cancellationToken).ConfigureAwait(false);
            return;
        }
        var slot = (int)(sequence % _casRevisions.Length);
        await CompareAndSwapKeyAsync(_index + ((long)slot * _clients), slot, cancellationToken).ConfigureAwait(false);
    }

    private async Task CompareAndSwapKeyAsync(long keyIndex, int? slot, CancellationToken cancellationToken)
    {
        var key = _keys.Key(keyIndex);
        var expected = slot is { } owned ? _casRevisions[owned] : 0;
        var request = new TxnRequest();
        request.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = expected });
        request.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = _value } });
        request.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = key } });
        var response = await _kv.TxnAsync(request, Call(cancellationToken)).ConfigureAwait(false);
        long revision;
        if (response.Succeeded)
        {
            TxnSucceeded++;
            Writes++;
            revision = response.Header.Revision; // the put's mod_revision
        }
        else
        {
            TxnFailed++;
            Reads++;
            var range = response.Responses.Count == 1 ? response.Responses[0].ResponseRange : null;
            if (range is null)
            {
                throw new BenchCheckException($"txn on {key.ToStringUtf8()} failed its compare but did not return the failure branch's range");
            }
            revision = range.Kvs.Count == 1 ? range.Kvs[0].ModRevision : 0;
        }
        if (slot is { } index)
        {
            _casRevisions[index] = revision;
        }
    }
}
