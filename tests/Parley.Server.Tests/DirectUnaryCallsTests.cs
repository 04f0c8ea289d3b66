using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Parley.Server.Grpc;

namespace Parley.Server.Tests;

/// <summary>
/// The unary KV calls served ahead of Grpc.AspNetCore (<see cref="DirectUnaryCalls"/>) answer as Grpc.AspNetCore does.
/// Two single-member clusters, one serving them directly and one through Grpc.AspNetCore, get the same raw HTTP/2
/// requests, good and bad, and must give the same HTTP status, content type, gRPC status and message (in the headers
/// for a trailers-only answer, else in the trailers) and the same message.
/// </summary>
public sealed class DirectUnaryCallsTests : IAsyncLifetime
{
    private static readonly byte[] PutBytes = new PutRequest { Key = ByteString.CopyFromUtf8("d/k"), Value = ByteString.CopyFromUtf8("v") }.ToByteArray();

    private readonly HttpClient _http = new(new SocketsHttpHandler());
    private InProcessMember _direct = null!;
    private InProcessMember _framework = null!;

    public async Task InitializeAsync()
    {
        _direct = await InProcessMember.StartAsync();
        _framework = await InProcessMember.StartAsync(directUnaryCalls: false);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _direct.DisposeAsync();
        await _framework.DisposeAsync();
    }

    [Fact]
    public async Task EachKvMethod_AnswersWithTheSameMessageAndStatus()
    {
        var txn = new TxnRequest
        {
            Compare = { new Etcdserverpb.Compare { Key = ByteString.CopyFromUtf8("d/k"), Target = Etcdserverpb.Compare.Types.CompareTarget.Version, Version = 1 } },
            Success = { new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8("d/k") } } },
        };
        var calls = new (string Method, IMessage Request, Func<byte[], IMessage> Parse)[]
        {
            ("Put", new PutRequest { Key = ByteString.CopyFromUtf8("d/k"), Value = ByteString.CopyFromUtf8("v"), PrevKv = true }, PutResponse.Parser.ParseFrom),
            ("Range", new RangeRequest { Key = ByteString.CopyFromUtf8("d/"), RangeEnd = ByteString.CopyFromUtf8("d0") }, RangeResponse.Parser.ParseFrom),
            ("Range", new RangeRequest { Key = ByteString.CopyFromUtf8("d/k"), Serializable = true }, RangeResponse.Parser.ParseFrom),
            ("Txn", txn, TxnResponse.Parser.ParseFrom),
            ("DeleteRange", new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("d/k"), PrevKv = true }, DeleteRangeResponse.Parser.ParseFrom),
            ("Compact", new CompactionRequest { Revision = 2 }, CompactionResponse.Parser.ParseFrom),
        };
        foreach (var (method, request, parse) in calls)
        {
            var direct = await SendAsync(_direct, method, Frame(request.ToByteArray()));
            var framework = await SendAsync(_framework, method, Frame(request.ToByteArray()));
            Assert.Equal(framework.Shape, direct.Shape);
            Assert.Equal((HttpStatusCode.OK, "application/grpc", "0", (string?)null, false), direct.Shape);
            // The members' ids differ; everything else in the answer is the same.
            Assert.Equal(WithoutIds(parse(Unframe(framework.Body))), WithoutIds(parse(Unframe(direct.Body))));
        }
    }

    [Fact]
    public async Task LargeMessages_AnswerTheSame()
    {
        // 1.4 MB: under --max-request-bytes (1.5 MiB), more than HTTP/2's initial windows and Kestrel's buffers.
        var value = ByteString.CopyFrom(Enumerable.Range(0, 1_400_000).Select(i => (byte)i).ToArray());
        var put = new PutRequest { Key = ByteString.CopyFromUtf8("d/big"), Value = value }.ToByteArray();
        var range = new RangeRequest { Key = ByteString.CopyFromUtf8("d/big") }.ToByteArray();
        foreach (var member in new[] { _direct, _framework })
        {
            var written = await SendAsync(member, "Put", Frame(put));
            Assert.Equal((HttpStatusCode.OK, "application/grpc", "0", (string?)null, false), written.Shape);
            var read = await SendAsync(member, "Range", Frame(range));
            Assert.Equal((HttpStatusCode.OK, "application/grpc", "0", (string?)null, false), read.Shape);
            Assert.Equal(value, RangeResponse.Parser.ParseFrom(Unframe(read.Body)).Kvs.Single().Value);
        }
    }

    [Fact]
    public async Task BadCalls_AnswerWithGrpcAspNetCoresStatus()
    {
        var faults = new (string Fault, byte[] Body)[]
        {
            ("empty body", []),
            ("half a frame header", [0, 0, 0]),
            ("short message", Frame(PutBytes)[..^2]),
            ("data after the message", [.. Frame(PutBytes), .. Frame(PutBytes)]),
            ("length over the limit", [0, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3]),
            ("compressed without grpc-encoding", [1, .. Frame(PutBytes)[1..]]),
            ("not a protobuf message", Frame([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])),
            ("refused by the handler", Frame(new PutRequest { Value = ByteString.CopyFromUtf8("no key") }.ToByteArray())),
        };
        foreach (var (fault, body) in faults)
        {
            var direct = await SendAsync(_direct, "Put", body);
            var framework = await SendAsync(_framework, "Put", body);
            Assert.True(framework.Shape == direct.Shape, $"{fault}: {direct.Shape} (Grpc.AspNetCore: {framework.Shape})");
            Assert.NotEqual("0", direct.Shape.Status);
            Assert.True(direct.Shape.TrailersOnly, fault);
            Assert.Empty(direct.Body);
        }
    }

    [Fact]
    public async Task RefusedByTheHandler_CarriesEtcdsMessage()
    {
        var answer = await SendAsync(_direct, "Put", Frame(new PutRequest { Value = ByteString.CopyFromUtf8("no key") }.ToByteArray()));
        Assert.Equal(((int)StatusCode.InvalidArgument).ToString(), answer.Shape.Status);
        Assert.Equal("etcdserver: key is not provided", Uri.UnescapeDataString(answer.Shape.Message!));
    }

    [Fact]
    public async Task PassedDeadline_AnswersDeadlineExceeded_WhileTheWriteStillWaits()
    {
        // Members of a 3-member cluster whose peers never start: no leader, so a put waits (until the member's request
        // timeout, 7 s) and its 300 ms deadline passes first.
        await using var direct = await InProcessMember.StartAsync(clusterSize: 3);
        await using var framework = await InProcessMember.StartAsync(clusterSize: 3, directUnaryCalls: false);
        foreach (var member in new[] { direct, framework })
        {
            var sent = DateTime.UtcNow;
            var answer = await SendAsync(member, "Put", Frame(PutBytes), ("grpc-timeout", "300m"));
            Assert.Equal((HttpStatusCode.OK, "application/grpc", "4", "Deadline%20Exceeded", true),
                answer.Shape with { Message = answer.Shape.Message?.Replace(" ", "%20", StringComparison.Ordinal) });
            Assert.Empty(answer.Body);
            Assert.True(DateTime.UtcNow - sent < TimeSpan.FromSeconds(5), "answered at the deadline, not when the write gave up");
        }
    }

    [Fact]
    public async Task RequestThatStallsMidMessage_AnswersDeadlineExceededAtTheDeadline()
    {
        // The frame header and half the message, then nothing for 10 s: the 300 ms deadline ends the call, on both
        // paths. Both answer DEADLINE_EXCEEDED and then reset the stream (CANCEL); a client still sending sees one or the
        // other first, depending on timing, so either is accepted.
        var frame = Frame(PutBytes);
        foreach (var member in new[] { _direct, _framework })
        {
            var sent = DateTime.UtcNow;
            string outcome;
            try
            {
                var answer = await SendAsync(member, "Put", new StallingContent(frame[..(frame.Length / 2)], TimeSpan.FromSeconds(10)), ("grpc-timeout", "300m"));
                outcome = $"status {answer.Shape.Status} {Uri.UnescapeDataString(answer.Shape.Message ?? "")}";
            }
            catch (HttpRequestException exception) when (exception.InnerException is HttpProtocolException protocol)
            {
                outcome = $"reset {protocol.ErrorCode}";
            }
            Assert.True(DateTime.UtcNow - sent < TimeSpan.FromSeconds(5), "ended at the deadline, not when the request gave up");
            Assert.Contains(outcome, new[] { $"status {(int)StatusCode.DeadlineExceeded} Deadline Exceeded", "reset 8" });
        }
    }

    [Fact]
    public async Task AmpleDeadline_AndAnUnknownMethod_AnswerAsGrpcAspNetCore()
    {
        var direct = await SendAsync(_direct, "Put", Frame(PutBytes), ("grpc-timeout", "20S"));
        Assert.Equal((HttpStatusCode.OK, "application/grpc", "0", (string?)null, false), direct.Shape);
        var unknownDirect = await SendAsync(_direct, "Nope", Frame(PutBytes));
        var unknownFramework = await SendAsync(_framework, "Nope", Frame(PutBytes));
        Assert.Equal(unknownFramework.Shape, unknownDirect.Shape);
        Assert.Equal(((int)StatusCode.Unimplemented).ToString(), unknownDirect.Shape.Status);
    }

    private Task<Answer> SendAsync(InProcessMember member, string method, byte[] body, params (string Name, string Value)[] headers) =>
        SendAsync(member, method, new ByteArrayContent(body), headers);

    private async Task<Answer> SendAsync(InProcessMember member, string method, HttpContent content, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(member.ClientUrl, "/etcdserverpb.KV/" + method))
        {
            Content = content,
            Version = HttpVersion.Version20, // h2c with prior knowledge, as gRPC clients speak it
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        using var response = await _http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var inHeaders = response.Headers.TryGetValues("grpc-status", out var headerStatus);
        string? status = inHeaders ? headerStatus!.Single() : response.TrailingHeaders.TryGetValues("grpc-status", out var trailerStatus) ? trailerStatus.Single() : null;
        var messageSource = inHeaders ? (HttpHeaders)response.Headers : response.TrailingHeaders;
        var message = messageSource.TryGetValues("grpc-message", out var messages) ? messages.Single() : null;
        return new Answer((response.StatusCode, response.Content.Headers.ContentType?.MediaType, status, message, inHeaders), bytes);
    }

    private static byte[] Frame(byte[] message)
    {
        var frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame, 5);
        return frame;
    }

    private static byte[] Unframe(byte[] body)
    {
        Assert.True(body.Length >= 5, "a message frame");
        Assert.Equal(0, body[0]);
        Assert.Equal(body.Length - 5, (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1)));
        return body[5..];
    }

    private static IMessage WithoutIds(IMessage message)
    {
        var header = (ResponseHeader)message.Descriptor.FindFieldByName("header").Accessor.GetValue(message);
        header.ClusterId = 0;
        header.MemberId = 0;
        return message;
    }

    /// <summary>A request body that sends its first bytes, then stalls (bounded) before ending.</summary>
    private sealed class StallingContent(byte[] first, TimeSpan stall) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(first);
            await stream.FlushAsync();
            await Task.Delay(stall);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private sealed record Answer((HttpStatusCode Http, string? ContentType, string? Status, string? Message, bool TrailersOnly) Shape, byte[] Body);
}

/// <summary>How <see cref="DirectUnaryCalls"/> reads a call's grpc-timeout and writes a status message.</summary>
public sealed class DirectUnaryCallsTextTests
{
    [Theory]
    [InlineData("5S", 50_000_000L)]
    [InlineData("250m", 2_500_000L)]
    [InlineData("7u", 70L)]
    [InlineData("1000n", 10L)]
    [InlineData("2M", 1_200_000_000L)]
    [InlineData("1H", 36_000_000_000L)]
    public void Timeout_IsReadAsGrpcReadsIt(string header, long ticks)
    {
        Assert.True(DirectUnaryCalls.TryReadTimeout(header, out var timeout));
        Assert.Equal(TimeSpan.FromTicks(ticks), timeout);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("5")]
    [InlineData("5x")]
    [InlineData("-5S")]
    [InlineData("0S")]
    [InlineData("1n")]
    [InlineData("99999999H")] // over int.MaxValue milliseconds: Grpc.AspNetCore ignores it too
    public void Timeout_Unreadable_OrZero_IsNoDeadline(string header) =>
        Assert.False(DirectUnaryCalls.TryReadTimeout(header, out _));

    [Theory]
    [InlineData("etcdserver: key is not provided", "etcdserver: key is not provided")]
    [InlineData("100% done", "100%25 done")]
    [InlineData("line\nbreak", "line%0Abreak")]
    [InlineData("clé", "cl%C3%A9")]
    public void StatusMessage_IsPercentEncodedAsTheGrpcProtocolAsks(string detail, string sent) =>
        Assert.Equal(sent, DirectUnaryCalls.PercentEncode(detail));
}

/// <summary>The cancellation token of a directly served call: cancelled by its deadline or its client, whichever way round.</summary>
public sealed class UnaryCallContextTests
{
    [Fact]
    public void DeadlineAfterTheTokenWasTaken_CancelsIt()
    {
        var context = new UnaryCallContext(new Microsoft.AspNetCore.Http.DefaultHttpContext(), "/etcdserverpb.KV/Put", DateTime.UtcNow);
        var token = context.CancellationToken;
        Assert.False(token.IsCancellationRequested);
        context.DeadlineExceeded();
        Assert.True(token.IsCancellationRequested);
        Assert.Equal(token, context.CancellationToken);
        context.Complete();
    }

    [Fact]
    public void TokenTakenAfterTheDeadline_IsAlreadyCancelled()
    {
        var context = new UnaryCallContext(new Microsoft.AspNetCore.Http.DefaultHttpContext(), "/etcdserverpb.KV/Put", DateTime.UtcNow);
        context.DeadlineExceeded();
        Assert.True(context.CancellationToken.IsCancellationRequested);
        context.Complete();
    }

    [Fact]
    public void ClientGoingAway_CancelsTheToken_WithoutADeadline()
    {
        using var aborted = new CancellationTokenSource();
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestAborted = aborted.Token };
        var context = new UnaryCallContext(http, "/etcdserverpb.KV/Range", DateTime.MaxValue);
        var token = context.CancellationToken;
        Assert.False(token.IsCancellationRequested);
        aborted.Cancel();
        Assert.True(token.IsCancellationRequested);
        Assert.Equal("/etcdserverpb.KV/Range", context.Method);
        Assert.Equal(DateTime.MaxValue, context.Deadline);
        context.Complete();
    }
}
