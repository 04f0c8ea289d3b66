using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using static Parley.Server.Tests.Http2.Http2TestFrames;

namespace Parley.Server.Tests.Http2;

/// <summary>
/// Raw HTTP/2 bytes against a real Kestrel: on a port set up by <see cref="ProtocolSniffer"/> a request whose
/// :authority is a URL is served (and later requests that refer to it by HPACK index too); on a plain HTTP/2 port
/// Kestrel resets the same request, which is the gap being closed.
/// </summary>
public sealed class AuthorityRepairKestrelTests : IAsyncLifetime
{
    private WebApplication? _app;
    private int _sniffedPort;
    private int _plainPort;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AllowAlternateSchemes = true;
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseSniffing());
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
        });
        _app = builder.Build();
        _app.MapPost("/host", (HttpContext context) => context.Request.Host.Value ?? "");
        await _app.StartAsync();
        var ports = _app.Urls.Select(url => new Uri(url).Port).ToArray();
        (_sniffedPort, _plainPort) = (ports[0], ports[1]);
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task AUrlAuthority_IsServed_WithTheRepairedHost_AlsoWhenReferredToByIndex()
    {
        var url = $"http://127.0.0.1:{_sniffedPort}";
        var answers = await ExchangeAsync(_sniffedPort, [Connection(url)], [1, 3]);
        var host = "http---127.0.0.1:" + _sniffedPort.ToString(CultureInfo.InvariantCulture);
        Assert.Equal(host, answers[1]);
        Assert.Equal(host, answers[3]);
    }

    [Fact]
    public async Task WithoutRepair_KestrelResetsTheStream_WithProtocolError()
    {
        var answers = await ExchangeAsync(_plainPort, [Connection($"http://127.0.0.1:{_plainPort}")], [1, 3]);
        Assert.Equal("RST_STREAM 1", answers[1]); // PROTOCOL_ERROR
    }

    [Fact]
    public async Task APrefaceArrivingInPieces_IsStillSniffedAsHttp2()
    {
        var bytes = Connection("127.0.0.1");
        var answers = await ExchangeAsync(_sniffedPort, [bytes[..2], bytes[2..4], bytes[4..]], [1, 3]);
        Assert.Equal("127.0.0.1", answers[1]);
        Assert.Equal("127.0.0.1", answers[3]);
    }

    /// <summary>Two POST /host requests: the first sends :path and :authority as Huffman literals with incremental indexing, the second refers to both.</summary>
    private static byte[] Connection(string authority)
    {
        var first = new HpackTestEncoder().Indexed(3).Indexed(6).Literal(HpackLiteral.Incremental, 4, "/host", huffman: true)
            .Literal(HpackLiteral.Incremental, 1, authority, huffman: true).ToArray();
        var second = new HpackTestEncoder().Indexed(3).Indexed(6).Indexed(63).Indexed(62).ToArray();
        return Concat(Preface, Frame(Settings, 0, 0, []), HeaderBlock(1, first), HeaderBlock(3, second));
    }

    /// <summary>
    /// Writes <paramref name="writes"/> (100 ms apart), then reads frames until every stream in
    /// <paramref name="streams"/> ended: its body, or "RST_STREAM code" when the server reset it.
    /// </summary>
    private static async Task<Dictionary<int, string>> ExchangeAsync(int port, byte[][] writes, int[] streams)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        var stream = client.GetStream();
        foreach (var write in writes)
        {
            await stream.WriteAsync(write, timeout.Token);
            await Task.Delay(100, timeout.Token);
        }
        var bodies = streams.ToDictionary(id => id, _ => new StringBuilder());
        var answers = new Dictionary<int, string>();
        var header = new byte[9];
        while (answers.Count < streams.Length)
        {
            await stream.ReadExactlyAsync(header, timeout.Token);
            var payload = new byte[(header[0] << 16) | (header[1] << 8) | header[2]];
            await stream.ReadExactlyAsync(payload, timeout.Token);
            var (type, flags, id) = (header[3], header[4], BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & 0x7FFFFFFF);
            Assert.NotEqual(GoAway, type);
            if (!bodies.TryGetValue(id, out var body))
            {
                continue; // connection frames: SETTINGS, WINDOW_UPDATE, PING
            }
            if (type == RstStream)
            {
                answers[id] = "RST_STREAM " + BinaryPrimitives.ReadUInt32BigEndian(payload).ToString(CultureInfo.InvariantCulture);
                continue;
            }
            if (type == Data)
            {
                body.Append(Encoding.UTF8.GetString(payload));
            }
            if ((type == Data || type == Headers) && (flags & EndStream) != 0)
            {
                answers[id] = body.ToString();
            }
        }
        return answers;
    }
}
