using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Parley.Bench.Wire;

namespace Parley.Bench.Tests;

/// <summary>
/// The bench's own HTTP/2 client (<see cref="LeanCallInvoker"/>) against a real member, call for call beside
/// Grpc.Net.Client: the same answers and the same errors (status and message); and against fake servers for what a
/// member does not do on demand (silence, a dropped connection, GOAWAY). Its HPACK decoder has its own tests
/// (Parley.Server.Tests, HpackDecoderTests).
/// </summary>
public sealed class LeanClientTests(ParleyMemberFixture member) : IClassFixture<ParleyMemberFixture>, IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress("http://" + member.Endpoint);

    private LeanCallInvoker Lean()
    {
        var colon = member.Endpoint.LastIndexOf(':');
        return new LeanCallInvoker(member.Endpoint[..colon], int.Parse(member.Endpoint[(colon + 1)..]), _channel.CreateCallInvoker());
    }

    private static CallOptions Within(double seconds = 10) => new(deadline: DateTime.UtcNow.AddSeconds(seconds));

    [Fact]
    public async Task PutThenRange_AnswersAsGrpcNetClientDoes()
    {
        using var invoker = Lean();
        var lean = new KV.KVClient(invoker);
        var reference = new KV.KVClient(_channel);
        var put = await lean.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("lean/a"), Value = ByteString.CopyFromUtf8("one") }, Within());
        Assert.True(put.Header.Revision > 0);
        var viaLean = await lean.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("lean/a") }, Within());
        var viaReference = await reference.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("lean/a") }, Within());
        Assert.Equal("one", Assert.Single(viaLean.Kvs).Value.ToStringUtf8());
        Assert.Equal(put.Header.Revision, viaLean.Kvs[0].ModRevision);
        Assert.Equal(viaReference.Kvs, viaLean.Kvs);
    }

    [Fact]
    public async Task LargeRequestAndResponse_CrossFramesAndWindows()
    {
        using var invoker = Lean();
        var lean = new KV.KVClient(invoker);
        // 1 MB: more than a 16 KB frame and than Kestrel's 768 KB stream window, so it waits for WINDOW_UPDATEs
        var big = new byte[1 << 20];
        new Random(7).NextBytes(big);
        await lean.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("lean/big/0"), Value = ByteString.CopyFrom(big) }, Within(30));
        for (var i = 1; i <= 40; i++)
        {
            await lean.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"lean/big/{i:D2}"), Value = ByteString.CopyFrom(big, i * 1000, 1000) }, Within());
        }
        var range = await lean.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("lean/big/"), RangeEnd = ByteString.CopyFromUtf8("lean/big0") }, Within(30));
        Assert.Equal(41, range.Kvs.Count);
        Assert.Equal(big, range.Kvs[0].Value.ToByteArray());
        Assert.Equal(big.AsSpan(40_000, 1000).ToArray(), range.Kvs[40].Value.ToByteArray());
    }

    [Fact]
    public async Task ManyConcurrentCalls_OnOneConnection_AllAnswered()
    {
        using var invoker = Lean();
        var lean = new KV.KVClient(invoker);
        var puts = Enumerable.Range(0, 300)
            .Select(i => lean.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"lean/many/{i:D3}"), Value = ByteString.CopyFromUtf8(i.ToString()) }, Within(30)).ResponseAsync)
            .ToArray();
        var revisions = (await Task.WhenAll(puts)).Select(response => response.Header.Revision).ToArray();
        Assert.Equal(300, revisions.Distinct().Count());
        var range = await lean.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("lean/many/"), RangeEnd = ByteString.CopyFromUtf8("lean/many0"), CountOnly = true }, Within());
        Assert.Equal(300, range.Count);
    }

    [Fact]
    public async Task Errors_CarryTheServersStatusAndMessage_AsGrpcNetClientReportsThem()
    {
        using var invoker = Lean();
        var lean = new KV.KVClient(invoker);
        var reference = new KV.KVClient(_channel);
        async Task<RpcException> Both(Func<KV.KVClient, Task> call)
        {
            var expected = await Assert.ThrowsAsync<RpcException>(() => call(reference));
            var actual = await Assert.ThrowsAsync<RpcException>(() => call(lean));
            Assert.Equal(expected.StatusCode, actual.StatusCode);
            Assert.Equal(expected.Status.Detail, actual.Status.Detail);
            return actual;
        }
        var noKey = await Both(kv => kv.PutAsync(new PutRequest { Value = ByteString.CopyFromUtf8("x") }, Within()).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, noKey.StatusCode);
        Assert.Equal("etcdserver: key is not provided", noKey.Status.Detail);
        var future = await Both(kv => kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("lean/a"), Revision = 1_000_000_000 }, Within()).ResponseAsync);
        Assert.Equal(StatusCode.OutOfRange, future.StatusCode);
        // and the connection still serves after them
        await lean.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("lean/a") }, Within());
    }

    [Fact]
    public async Task UnknownMethod_IsUnimplemented()
    {
        using var invoker = Lean();
        var method = new Method<RangeRequest, RangeResponse>(MethodType.Unary, "etcdserverpb.KV", "NoSuchMethod",
            Marshallers.Create(request => request.ToByteArray(), RangeRequest.Parser.ParseFrom), Marshallers.Create(response => response.ToByteArray(), RangeResponse.Parser.ParseFrom));
        var error = await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(method, null, Within(), new RangeRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
    }

    [Fact]
    public async Task SilentServer_CallEndsAtItsDeadline_OrWhenCancelled()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = new List<Socket>();
        var accepting = Task.Run(async () => accepted.Add(await listener.AcceptSocketAsync()));
        using var invoker = new LeanCallInvoker("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, _channel.CreateCallInvoker());
        var kv = new KV.KVClient(invoker);
        var clock = Stopwatch.StartNew();
        var late = await Assert.ThrowsAsync<RpcException>(() => kv.RangeAsync(new RangeRequest(), new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(300))).ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, late.StatusCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var cancelled = await Assert.ThrowsAsync<RpcException>(() => kv.RangeAsync(new RangeRequest(), new CallOptions(deadline: DateTime.UtcNow.AddMinutes(1), cancellationToken: cancel.Token)).ResponseAsync);
        Assert.Equal(StatusCode.Cancelled, cancelled.StatusCode);
        await accepting;
        accepted.ForEach(socket => socket.Dispose());
    }

    [Fact]
    public async Task ServerDropsTheConnection_CallsFailUnavailable_AndTheNextCallReconnects()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var invoker = new LeanCallInvoker("127.0.0.1", port, _channel.CreateCallInvoker());
        var kv = new KV.KVClient(invoker);
        var call = kv.RangeAsync(new RangeRequest(), Within());
        using (var first = await listener.AcceptSocketAsync())
        {
            await ReadSomeAsync(first);
        } // closed without an answer
        var dropped = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, dropped.StatusCode);

        // GOAWAY naming no stream as processed: the call in flight fails Unavailable; the next one opens a new connection
        var second = kv.RangeAsync(new RangeRequest(), Within());
        using var goingAway = await listener.AcceptSocketAsync();
        await ReadSomeAsync(goingAway);
        await goingAway.SendAsync(new byte[] { 0, 0, 8, 7, 0, 0, 0, 0, 0, /* last stream */ 0, 0, 0, 0, /* NO_ERROR */ 0, 0, 0, 0 });
        var refused = await Assert.ThrowsAsync<RpcException>(() => second.ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("GOAWAY", refused.Status.Detail);
        var third = kv.RangeAsync(new RangeRequest(), Within());
        using var reconnected = await listener.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(await ReadSomeAsync(reconnected) > 0);
        reconnected.Dispose();
        Assert.Equal(StatusCode.Unavailable, (await Assert.ThrowsAsync<RpcException>(() => third.ResponseAsync)).StatusCode);
    }

    [Theory]
    [InlineData("88 0f10 09 746578742f68746d6c", StatusCode.Internal, "Bad gRPC response. Invalid content-type value: text/html")]
    [InlineData("88", StatusCode.Internal, "Bad gRPC response. Response did not have a content-type header.")]
    [InlineData("8d", StatusCode.Unimplemented, "Bad gRPC response. HTTP status code: 404")]
    [InlineData("88 0f10 10 6170706c69636174696f6e2f67727063 000b 677270632d737461747573 0135 000c 677270632d6d657373616765 0e 6e6f25323073756368206b657921",
        StatusCode.NotFound, "no such key!")]
    [InlineData("88 0f10 10 6170706c69636174696f6e2f67727063", StatusCode.Internal, "No grpc-status found on response.")]
    public async Task TrailersOnlyAnswers_MapAsGrpcNetClientMapsThem(string headerBlockHex, StatusCode expected, string detail)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var invoker = new LeanCallInvoker("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, _channel.CreateCallInvoker());
        var call = new KV.KVClient(invoker).RangeAsync(new RangeRequest(), Within());
        using var server = await listener.AcceptSocketAsync();
        await ReadUntilRequestHeadersAsync(server); // an answer to a stream the client has not opened yet would be dropped
        var block = Convert.FromHexString(headerBlockHex.Replace(" ", ""));
        // an empty SETTINGS, then HEADERS on stream 1 with END_STREAM | END_HEADERS
        byte[] frames = [0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, (byte)block.Length, 1, 0x5, 0, 0, 0, 1, .. block];
        await server.SendAsync(frames);
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(expected, error.StatusCode);
        Assert.Equal(detail, error.Status.Detail);
    }

    /// <summary>Reads the client's preface and frames until the HEADERS frame that opens stream 1 has arrived.</summary>
    private static async Task ReadUntilRequestHeadersAsync(Socket socket)
    {
        const int prefaceBytes = 24, frameHeaderBytes = 9;
        var received = new List<byte>();
        var buffer = new byte[4096];
        var offset = prefaceBytes;
        while (true)
        {
            while (received.Count >= offset + frameHeaderBytes)
            {
                var length = (received[offset] << 16) | (received[offset + 1] << 8) | received[offset + 2];
                var type = received[offset + 3];
                var stream = ((received[offset + 5] & 0x7F) << 24) | (received[offset + 6] << 16) | (received[offset + 7] << 8) | received[offset + 8];
                if (type == 1 && stream == 1)
                {
                    return;
                }
                offset += frameHeaderBytes + length;
            }
            var read = await socket.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(read > 0, "the client closed the connection before it sent its request");
            received.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }

    private static async Task<int> ReadSomeAsync(Socket socket)
    {
        var buffer = new byte[4096];
        return await socket.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
    }

    public void Dispose() => _channel.Dispose();
}

/// <summary>The request header blocks the lean client sends, decoded as a server decodes them.</summary>
public sealed class RequestHeadersTests
{
    [Fact]
    public void FixedPart_ThenDeadlineAndMetadata_DecodeToTheGrpcRequestHeaders()
    {
        var method = new Method<RangeRequest, RangeResponse>(MethodType.Unary, "etcdserverpb.KV", "Range",
            Marshallers.Create(request => request.ToByteArray(), RangeRequest.Parser.ParseFrom), Marshallers.Create(response => response.ToByteArray(), RangeResponse.Parser.ParseFrom));
        var headers = new Metadata { { "token", "abc" }, { "trace-bin", new byte[] { 1, 2, 3, 4 } } };
        var created = DateTime.UtcNow;
        var call = LeanCall<RangeResponse>.Create(method, new CallOptions(headers, created.AddSeconds(5)), new RangeRequest());
        var block = new System.Buffers.ArrayBufferWriter<byte>();
        RequestHeaders.Write(block, RequestHeaders.Fixed(call.Path, "127.0.0.1:2379"), call);
        var elapsedMs = (int)Math.Ceiling((DateTime.UtcNow - created).TotalMilliseconds);
        var fields = new List<(string Name, string Value)>();
        Assert.True(new Parley.Server.Http2.HpackDecoder().TryDecode(block.WrittenSpan, fields));
        Assert.Equal(
            [(":method", "POST"), (":scheme", "http"), (":path", "/etcdserverpb.KV/Range"), (":authority", "127.0.0.1:2379"),
             ("content-type", "application/grpc"), ("te", "trailers"), ("user-agent", "parley-bench")],
            fields[..7]);
        Assert.Equal("grpc-timeout", fields[7].Name);
        // What is left of the 5 s when the header was written (a loaded CI machine took 117 ms to get there).
        Assert.Matches("^[0-9]+m$", fields[7].Value);
        Assert.InRange(int.Parse(fields[7].Value[..^1], CultureInfo.InvariantCulture), 5000 - elapsedMs - 1, 5000);
        Assert.Equal([("token", "abc"), ("trace-bin", "AQIDBA")], fields[8..]);
    }
}
