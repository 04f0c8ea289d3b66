using System.Text;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Sdk;

namespace Parley.Server.Tests.Differential;

/// <summary>The same generated client stubs, bound to one server.</summary>
public sealed record DifferentialClients(KV.KVClient Kv, Maintenance.MaintenanceClient Maintenance, Lease.LeaseClient Lease, CallInvoker Invoker);

/// <summary>
/// A real etcd 3.4 member and a one-member Parley cluster, both fresh, driven step by step with the same requests
/// through the same generated client. Every step's outcome (the response, or the gRPC code and message) is rendered
/// as canonical JSON with the ids and the term of the top-level header masked, and the two must be equal: any other
/// difference fails the test with the step, the request and both outcomes.
/// </summary>
public sealed class DifferentialPair : IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true));

    private readonly EtcdServer _etcd;
    private readonly LocalCluster _parley;
    private readonly GrpcChannel _etcdChannel;
    private readonly GrpcChannel _parleyChannel;
    private readonly Queue<string> _recent = new();

    public DifferentialPair(string[]? etcdArguments = null, string[]? parleyArguments = null)
    {
        var etcd = Task.Run(() => new EtcdServer(etcdArguments ?? []));
        var parley = Task.Run(() => new LocalCluster(1, parleyArguments ?? []));
        try
        {
            Task.WaitAll(etcd, parley);
        }
        catch (AggregateException)
        {
            if (etcd.IsCompletedSuccessfully)
            {
                etcd.Result.Dispose();
            }
            if (parley.IsCompletedSuccessfully)
            {
                parley.Result.Dispose();
            }
            throw;
        }
        _etcd = etcd.Result;
        _parley = parley.Result;
        _etcdChannel = GrpcChannel.ForAddress(_etcd.ClientUrl, new GrpcChannelOptions { MaxReceiveMessageSize = null });
        _parleyChannel = GrpcChannel.ForAddress(_parley.ClientUrls[0], new GrpcChannelOptions { MaxReceiveMessageSize = null });
        Etcd = new DifferentialClients(new KV.KVClient(_etcdChannel), new Maintenance.MaintenanceClient(_etcdChannel), new Lease.LeaseClient(_etcdChannel), _etcdChannel.CreateCallInvoker());
        Parley = new DifferentialClients(new KV.KVClient(_parleyChannel), new Maintenance.MaintenanceClient(_parleyChannel), new Lease.LeaseClient(_parleyChannel), _parleyChannel.CreateCallInvoker());
    }

    public DifferentialClients Etcd { get; }

    public DifferentialClients Parley { get; }

    public LocalCluster ParleyCluster => _parley;

    public EtcdServer EtcdServer => _etcd;

    /// <summary>Steps compared so far.</summary>
    public int Steps { get; private set; }

    /// <summary>The store revision in the last header etcd returned (both servers agree on it while steps match).</summary>
    public long Revision { get; private set; } = 1;

    public Task<PutResponse?> PutAsync(PutRequest request) => SameAsync("Put " + Render(request), clients => clients.Kv.PutAsync(request, deadline: Deadline()).ResponseAsync);

    public Task<RangeResponse?> RangeAsync(RangeRequest request) => SameAsync("Range " + Render(request), clients => clients.Kv.RangeAsync(request, deadline: Deadline()).ResponseAsync);

    public Task<DeleteRangeResponse?> DeleteAsync(DeleteRangeRequest request) => SameAsync("DeleteRange " + Render(request), clients => clients.Kv.DeleteRangeAsync(request, deadline: Deadline()).ResponseAsync);

    public Task<TxnResponse?> TxnAsync(TxnRequest request) => SameAsync("Txn " + Render(request), clients => clients.Kv.TxnAsync(request, deadline: Deadline()).ResponseAsync);

    public Task<CompactionResponse?> CompactAsync(long revision, bool physical = false) =>
        SameAsync($"Compact {revision}{(physical ? " physical" : "")}", clients => clients.Kv.CompactAsync(new CompactionRequest { Revision = revision, Physical = physical }, deadline: Deadline()).ResponseAsync);

    /// <summary>A grant with an explicit id (server-chosen ids differ by nature); keep TTLs long so expiry never races the test.</summary>
    public Task<LeaseGrantResponse?> LeaseGrantAsync(long id, long ttlSeconds) =>
        SameAsync($"LeaseGrant {id} ttl {ttlSeconds}", clients => clients.Lease.LeaseGrantAsync(new LeaseGrantRequest { ID = id, TTL = ttlSeconds }, deadline: Deadline()).ResponseAsync);

    public Task<LeaseRevokeResponse?> LeaseRevokeAsync(long id) =>
        SameAsync($"LeaseRevoke {id}", clients => clients.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = id }, deadline: Deadline()).ResponseAsync);

    public Task<AlarmResponse?> AlarmAsync(AlarmRequest.Types.AlarmAction action, ulong memberId, AlarmType alarm) =>
        SameAsync($"Alarm {action} {memberId} {alarm}", clients => clients.Maintenance.AlarmAsync(new AlarmRequest { Action = action, MemberID = memberId, Alarm = alarm }, deadline: Deadline()).ResponseAsync);

    /// <summary>Runs <paramref name="call"/> against etcd, then Parley, and fails unless both outcomes render the same.</summary>
    public async Task<T?> SameAsync<T>(string description, Func<DifferentialClients, Task<T>> call)
        where T : class, IMessage
    {
        Steps++;
        var (expected, response) = await CaptureAsync(call, Etcd).ConfigureAwait(false);
        var (actual, _) = await CaptureAsync(call, Parley).ConfigureAwait(false);
        var step = $"#{Steps} {description}";
        if (expected != actual)
        {
            throw new XunitException(
                $"Parley differs from etcd 3.4 at step {step}\n  etcd:   {expected}\n  parley: {actual}\n" +
                $"previous steps (newest last):\n  {string.Join("\n  ", _recent)}" +
                (_etcd.HasExited ? "\netcd exited; its log ends:\n" + Tail(_etcd.Log) : ""));
        }
        _recent.Enqueue(step + " => " + Shorten(expected));
        if (_recent.Count > 12)
        {
            _recent.Dequeue();
        }
        if (response?.Descriptor.FindFieldByName("header")?.Accessor.GetValue(response) is ResponseHeader { Revision: > 0 } header)
        {
            Revision = header.Revision;
        }
        return response;
    }

    /// <summary>The outcome as one line: the masked response, or "error &lt;code&gt; &lt;message&gt;".</summary>
    public static async Task<(string Outcome, T? Response)> CaptureAsync<T>(Func<DifferentialClients, Task<T>> call, DifferentialClients clients)
        where T : class, IMessage
    {
        try
        {
            var response = await call(clients).ConfigureAwait(false);
            return (Render(Masked(response)), response);
        }
        catch (RpcException exception)
        {
            return ($"error {exception.StatusCode} \"{exception.Status.Detail}\"", null);
        }
    }

    public static string Render(IMessage message) => Json.Format(message);

    public void Dispose()
    {
        _etcdChannel.Dispose();
        _parleyChannel.Dispose();
        _etcd.Dispose();
        _parley.Dispose();
    }

    /// <summary>A copy whose top-level header has no cluster id, member id or term (they differ by nature).</summary>
    private static IMessage Masked(IMessage response)
    {
        var field = response.Descriptor.FindFieldByName("header");
        if (field?.Accessor.GetValue(response) is not ResponseHeader header)
        {
            return response;
        }
        var copy = response.Descriptor.Parser.ParseFrom(response.ToByteString());
        field.Accessor.SetValue(copy, new ResponseHeader { Revision = header.Revision });
        return copy;
    }

    private static string Tail(string log) => log.Length <= 3000 ? log : log[^3000..];

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private static DateTime Deadline() => DateTime.UtcNow + CallTimeout;

    public static ByteString Bytes(string text) => ByteString.CopyFrom(Encoding.UTF8.GetBytes(text));
}
