using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Parley.Server.Tests;

/// <summary>
/// Limits and bad input on real `parley serve` processes (issue 5 §5): each answered with etcd's status code and
/// message, and nothing else affected. The txn-size, duplicate-key, empty-key, revision and lease cases are compared
/// with real etcd in Differential/DifferentialTests.
/// </summary>
public sealed class LimitsTests
{
    private const string NoSpace = "etcdserver: mvcc: database space exceeded";

    // As large as the puts that hit the quota, so that its cost does not fit either.
    private static readonly string BigValue = new('x', 1000);

    [EtcdctlFact]
    public async Task QuotaExceeded_RaisesNoSpaceOnEveryMember_RefusesWrites_ServesReads_UntilFreedAndDisarmed()
    {
        using var cluster = new LocalCluster(3, "--quota-backend-bytes", "65536");
        using var channel = GrpcChannel.ForAddress(cluster.ClientUrls[0]);
        var kv = new KV.KVClient(channel);
        var value = ByteString.CopyFrom(new byte[1000]);
        var accepted = 0;
        RpcException? refused = null;
        for (var i = 0; i < 500 && refused is null; i++)
        {
            try
            {
                await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"q/{i:D4}"), Value = value }, deadline: Deadline());
                accepted++;
            }
            catch (RpcException exception)
            {
                refused = exception;
            }
        }
        Assert.NotNull(refused);
        Assert.Equal((StatusCode.ResourceExhausted, NoSpace), (refused.StatusCode, refused.Status.Detail));
        Assert.InRange(accepted, 10, 100);

        // The alarm is replicated: every member lists it, refuses puts, serves reads and reports it.
        var raisedBy = AlarmLines(cluster, 0);
        Assert.Single(raisedBy);
        Assert.Matches("^memberID:[0-9]+ alarm:NOSPACE $", raisedBy[0] + " ");
        for (var member = 0; member < 3; member++)
        {
            Assert.Contains(raisedBy[0], AlarmLines(cluster, member)); // a member refusing a write raises its own alarm too, as etcd
            var put = Etcdctl.Run(cluster.Endpoint(member), "put q/more " + BigValue);
            Assert.NotEqual(0, put.ExitCode);
            Assert.Contains(NoSpace, put.Error, StringComparison.Ordinal);
            var get = Etcdctl.Run(cluster.Endpoint(member), "get q/0000 --print-value-only");
            Assert.Equal(0, get.ExitCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, cluster.Get(member, "/health").Status);
            Assert.Equal(HttpStatusCode.OK, cluster.Get(member, "/health?exclude=NOSPACE").Status);
            var status = Etcdctl.Run(cluster.Endpoint(member), "endpoint status -w json");
            Assert.Contains("alarm:NOSPACE ", status.Output, StringComparison.Ordinal);
        }

        // Disarming without freeing space: the next write raises it again.
        Assert.Equal(0, Etcdctl.Run(cluster.Endpoint(1), "alarm disarm").ExitCode);
        Assert.Contains(NoSpace, Etcdctl.Run(cluster.Endpoint(1), "put q/more " + BigValue).Error, StringComparison.Ordinal);
        Assert.NotEmpty(AlarmLines(cluster, 2));

        // Free space (delete and compact), disarm: writes are accepted again everywhere, and health is back.
        Assert.Equal(0, Etcdctl.Run(cluster.Endpoint(2), "del q/ --prefix").ExitCode);
        Assert.Contains(NoSpace, Etcdctl.Run(cluster.Endpoint(0), "put q/more " + BigValue).Error, StringComparison.Ordinal); // still armed
        var revision = Revision(cluster, 0);
        Assert.Equal(0, Etcdctl.Run(cluster.Endpoint(0), $"compaction {revision}").ExitCode);
        var disarm = Etcdctl.Run(cluster.Endpoint(0), "alarm disarm");
        Assert.Equal(0, disarm.ExitCode);
        Assert.Contains("alarm:NOSPACE", disarm.Output, StringComparison.Ordinal);
        for (var member = 0; member < 3; member++)
        {
            Assert.Empty(AlarmLines(cluster, member));
            Assert.Equal(0, Etcdctl.Run(cluster.Endpoint(member), $"put q/after-{member} v").ExitCode);
            LocalCluster.WaitUntil(() => cluster.Get(member, "/health").Status == HttpStatusCode.OK, TimeSpan.FromSeconds(10), "healthy again");
        }
    }

    [Fact]
    public async Task RequestLargerThanMaxRequestBytes_IsTooLarge_AndLargerThanTheGrpcLimit_IsResourceExhausted_ServerUnaffected()
    {
        using var cluster = new LocalCluster(1, "--max-request-bytes", "10000");
        using var channel = GrpcChannel.ForAddress(cluster.ClientUrls[0]);
        var kv = new KV.KVClient(channel);
        await kv.PutAsync(Put("big/ok", 9000), deadline: Deadline());
        var tooLarge = await Assert.ThrowsAsync<RpcException>(async () => await kv.PutAsync(Put("big/no", 12_000), deadline: Deadline()));
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: request is too large"), (tooLarge.StatusCode, tooLarge.Status.Detail));
        var txn = new TxnRequest();
        txn.Success.Add(new RequestOp { RequestPut = Put("big/t1", 6000) });
        txn.Success.Add(new RequestOp { RequestPut = Put("big/t2", 6000) });
        tooLarge = await Assert.ThrowsAsync<RpcException>(async () => await kv.TxnAsync(txn, deadline: Deadline()));
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: request is too large"), (tooLarge.StatusCode, tooLarge.Status.Detail));
        // Beyond max-request-bytes + 512 KiB the gRPC layer refuses the message itself, as etcd's does.
        var frame = await Assert.ThrowsAsync<RpcException>(async () => await kv.PutAsync(Put("big/huge", 10_000 + 512 * 1024 + 1), deadline: Deadline()));
        Assert.Equal(StatusCode.ResourceExhausted, frame.StatusCode); // the text is the gRPC library's, as etcd's is grpc-go's
        // Nothing else affected.
        await kv.PutAsync(Put("big/after", 100), deadline: Deadline());
        var range = await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("big/"), RangeEnd = ByteString.CopyFromUtf8("big0"), KeysOnly = true }, deadline: Deadline());
        Assert.Equal(["big/after", "big/ok"], range.Kvs.Select(kv => kv.Key.ToStringUtf8()));
    }

    [Fact]
    public async Task MalformedProtobuf_GarbageBytes_AndClientsThatVanishMidRequest_LeaveTheServerHealthy()
    {
        using var cluster = new LocalCluster(1);
        using var channel = GrpcChannel.ForAddress(cluster.ClientUrls[0]);
        var raw = new Method<byte[], byte[]>(MethodType.Unary, "etcdserverpb.KV", "Put", Marshallers.Create(bytes => bytes, bytes => bytes), Marshallers.Create(bytes => bytes, bytes => bytes));
        // Field 1 (key, length-delimited) claiming 100 bytes with 2 present; then a varint that never ends.
        foreach (var garbage in new[] { new byte[] { 0x0A, 100, 1, 2 }, Enumerable.Repeat((byte)0xFF, 16).ToArray(), new byte[] { 0x07 } })
        {
            var malformed = await Assert.ThrowsAsync<RpcException>(async () =>
                await channel.CreateCallInvoker().AsyncUnaryCall(raw, null, new CallOptions(deadline: Deadline()), garbage));
            Assert.NotEqual(StatusCode.OK, malformed.StatusCode);
            Assert.NotEqual(StatusCode.Unavailable, malformed.StatusCode); // refused, not crashed
        }

        var port = new Uri(cluster.ClientUrls[0]).Port;
        var random = new Random(5);
        var payloads = new List<byte[]>
        {
            RandomBytes(random, 4096), // not HTTP at all
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray().Concat(RandomBytes(random, 512)).ToArray(), // a preface, then garbage frames
            "PRI * HTT"u8.ToArray(), // half a preface, then gone
            "POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"key\":"u8.ToArray(), // a body that never comes
            "GET /health HTTP/1.1\r\nHost: x\r\nX-Long: "u8.ToArray().Concat(Enumerable.Repeat((byte)'a', 100_000)).ToArray(),
        };
        foreach (var payload in payloads)
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            var stream = client.GetStream();
            try
            {
                await stream.WriteAsync(payload);
                await Task.Delay(100);
            }
            catch (IOException)
            {
                // the server may close on us first; that is fine
            }
            client.Client.Close(0); // reset, mid-request
        }

        // A call the client cancels while the server works on it.
        using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(1)))
        {
            var kv = new KV.KVClient(channel);
            await Assert.ThrowsAnyAsync<Exception>(async () =>
                await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("cancelled"), Value = ByteString.CopyFrom(new byte[100_000]) }, cancellationToken: cancel.Token));
        }

        Assert.Equal(HttpStatusCode.OK, cluster.Get(0, "/health").Status);
        var client2 = new KV.KVClient(channel);
        var put = await client2.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("still/here"), Value = ByteString.CopyFromUtf8("v") }, deadline: Deadline());
        Assert.True(put.Header.Revision >= 2);
        Assert.Contains("member m1", cluster.Log(0), StringComparison.Ordinal);
        Assert.DoesNotContain("node loop failed", cluster.Log(0), StringComparison.Ordinal);
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static PutRequest Put(string key, int valueBytes) => new() { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(new byte[valueBytes]) };

    private static List<string> AlarmLines(LocalCluster cluster, int member)
    {
        var (exitCode, output, error) = Etcdctl.Run(cluster.Endpoint(member), "alarm list");
        Assert.True(exitCode == 0, error);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    private static long Revision(LocalCluster cluster, int member)
    {
        var (exitCode, output, error) = Etcdctl.Run(cluster.Endpoint(member), "get anything -w json");
        Assert.True(exitCode == 0, error);
        using var json = JsonDocument.Parse(output);
        return json.RootElement.GetProperty("header").GetProperty("revision").GetInt64();
    }

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(15);
}
