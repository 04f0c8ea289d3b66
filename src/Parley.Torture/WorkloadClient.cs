using System.Globalization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Parley.Torture;

/// <summary>
/// One sequential client of the register workload: get, put, delete and Txn compare-and-set over a small keyspace,
/// each value unique ("c{client}-{n}"). It talks to one member; after an error it backs off and moves to another
/// of the current voters (<see cref="ClusterEndpoints"/>: the membership may have changed).
/// A write that fails in any way is recorded as unknown (it may still land); a failed read is not recorded.
/// </summary>
internal sealed class WorkloadClient : IDisposable
{
    private readonly int _clientId;
    private readonly ClusterEndpoints _endpoints;
    private readonly IReadOnlyList<string> _keys;
    private readonly Random _random;
    private readonly RunClock _clock;
    private readonly TimeSpan _requestTimeout;
    private readonly Dictionary<string, (string? Value, long ModRevision)> _lastSeen = new(StringComparer.Ordinal);
    private GrpcChannel? _channel;
    private Endpoint _endpoint;
    private int _sequence;

    public WorkloadClient(int clientId, ClusterEndpoints endpoints, IReadOnlyList<string> keys, int seed, RunClock clock, TimeSpan requestTimeout)
    {
        _clientId = clientId;
        _endpoints = endpoints;
        _keys = keys;
        _random = new Random(seed);
        _clock = clock;
        _requestTimeout = requestTimeout;
        _endpoint = endpoints.At(clientId);
    }

    /// <summary>Runs until the time is up, the shared operation budget is spent, or cancellation.</summary>
    public async Task RunAsync(List<HistoryOperation> history, Lock historyGate, OperationBudget budget, TimeSpan duration, CancellationToken cancellation)
    {
        while (_clock.Elapsed < duration && !cancellation.IsCancellationRequested && budget.TryTake())
        {
            var operation = await NextAsync().ConfigureAwait(false);
            if (operation is not null)
            {
                lock (historyGate)
                {
                    history.Add(operation);
                }
            }
            if (operation is null || operation.Outcome != HistoryOutcome.Ok)
            {
                // back off (an unknown outcome stays pending forever for the checker: keep them rare) and move on
                await Task.Delay(TimeSpan.FromMilliseconds(100 + _random.Next(300)), CancellationToken.None).ConfigureAwait(false);
                SwitchMember();
            }
        }
    }

    public void Dispose() => _channel?.Dispose();

    private void SwitchMember()
    {
        _endpoint = _endpoints.Pick(_random);
        _channel?.Dispose();
        _channel = null;
    }

    private KV.KVClient Client()
    {
        _channel ??= GrpcChannel.ForAddress(_endpoint.Url);
        return new KV.KVClient(_channel);
    }

    private async Task<HistoryOperation?> NextAsync()
    {
        var key = _keys[_random.Next(_keys.Count)];
        var roll = _random.Next(100);
        return roll switch
        {
            < 40 => await GetAsync(key).ConfigureAwait(false),
            < 70 => await PutAsync(key).ConfigureAwait(false),
            < 80 => await DeleteAsync(key).ConfigureAwait(false),
            _ => await CompareAndSetAsync(key).ConfigureAwait(false),
        };
    }

    private string NextValue() => string.Create(CultureInfo.InvariantCulture, $"c{_clientId}-{++_sequence}");

    private DateTime Deadline() => DateTime.UtcNow + _requestTimeout;

    private async Task<HistoryOperation?> GetAsync(string key)
    {
        var call = _clock.NowNs;
        try
        {
            var response = await Client().RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, deadline: Deadline()).ConfigureAwait(false);
            var returned = _clock.NowNs;
            var value = response.Kvs.Count == 0 ? null : response.Kvs[0].Value.ToStringUtf8();
            var modRevision = response.Kvs.Count == 0 ? 0 : response.Kvs[0].ModRevision;
            _lastSeen[key] = (value, modRevision);
            return new HistoryOperation
            {
                Client = _clientId, Op = HistoryOpKind.Get, Key = key, Value = value, ModRevision = modRevision,
                Revision = response.Header.Revision, CallNs = call, ReturnNs = returned, Member = _endpoint.Member,
            };
        }
        catch (RpcException)
        {
            return null; // a failed read constrains nothing
        }
    }

    private async Task<HistoryOperation> PutAsync(string key)
    {
        var value = NextValue();
        var operation = new HistoryOperation { Client = _clientId, Op = HistoryOpKind.Put, Key = key, Value = value, CallNs = _clock.NowNs, Member = _endpoint.Member };
        try
        {
            var response = await Client().PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) }, deadline: Deadline()).ConfigureAwait(false);
            _lastSeen[key] = (value, response.Header.Revision);
            return operation with { ReturnNs = _clock.NowNs, Revision = response.Header.Revision };
        }
        catch (RpcException exception)
        {
            return Unknown(operation, exception);
        }
    }

    private async Task<HistoryOperation> DeleteAsync(string key)
    {
        var operation = new HistoryOperation { Client = _clientId, Op = HistoryOpKind.Delete, Key = key, CallNs = _clock.NowNs, Member = _endpoint.Member };
        try
        {
            var response = await Client().DeleteRangeAsync(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) }, deadline: Deadline()).ConfigureAwait(false);
            _lastSeen[key] = (null, 0);
            return operation with { ReturnNs = _clock.NowNs, Revision = response.Header.Revision, Deleted = response.Deleted };
        }
        catch (RpcException exception)
        {
            return Unknown(operation, exception);
        }
    }

    /// <summary>
    /// Compare-and-set on what this client last saw of the key: its mod revision (0 = create if absent, like a lock)
    /// or its value. One time in four the success branch also writes a second key, so cross-key atomicity is judged.
    /// </summary>
    private async Task<HistoryOperation> CompareAndSetAsync(string key)
    {
        var seen = _lastSeen.GetValueOrDefault(key);
        var byValue = seen.Value is not null && _random.Next(2) == 0;
        var puts = new List<(string Key, string Value)> { (key, NextValue()) };
        if (_random.Next(4) == 0)
        {
            var other = _keys[_random.Next(_keys.Count)];
            if (other != key)
            {
                puts.Add((other, NextValue()));
            }
        }
        var operation = new HistoryOperation
        {
            Client = _clientId, Op = HistoryOpKind.Txn, Key = key, CallNs = 0, Member = _endpoint.Member,
            CompareTarget = byValue ? "value" : "mod_revision", CompareValue = byValue ? seen.Value : null,
            CompareRevision = byValue ? 0 : seen.ModRevision, SuccessPuts = puts,
        };
        var compare = new Compare
        {
            Key = ByteString.CopyFromUtf8(key),
            Result = Compare.Types.CompareResult.Equal,
            Target = byValue ? Compare.Types.CompareTarget.Value : Compare.Types.CompareTarget.Mod,
        };
        if (byValue)
        {
            compare.Value = ByteString.CopyFromUtf8(seen.Value);
        }
        else
        {
            compare.ModRevision = seen.ModRevision;
        }
        var request = new TxnRequest();
        request.Compare.Add(compare);
        foreach (var (putKey, putValue) in puts)
        {
            request.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(putKey), Value = ByteString.CopyFromUtf8(putValue) } });
        }
        operation = operation with { CallNs = _clock.NowNs };
        try
        {
            var response = await Client().TxnAsync(request, deadline: Deadline()).ConfigureAwait(false);
            var returned = _clock.NowNs;
            if (response.Succeeded)
            {
                foreach (var (putKey, putValue) in puts)
                {
                    _lastSeen[putKey] = (putValue, response.Header.Revision);
                }
            }
            return operation with { ReturnNs = returned, Revision = response.Header.Revision, Succeeded = response.Succeeded };
        }
        catch (RpcException exception)
        {
            return Unknown(operation, exception);
        }
    }

    private static HistoryOperation Unknown(HistoryOperation operation, RpcException exception) =>
        operation with { Outcome = HistoryOutcome.Unknown, Error = $"{exception.StatusCode}: {exception.Status.Detail}" };
}
