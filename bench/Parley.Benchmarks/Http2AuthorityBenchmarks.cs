using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using BenchmarkDotNet.Attributes;
using Parley.Server.Http2;

namespace Parley.Benchmarks;

/// <summary>
/// What <see cref="AuthorityRepairingReader"/> adds to each gRPC request a client sends: 1,000 unary requests
/// (HEADERS + a 30 B DATA frame) written into a pipe in 4 KiB chunks and read back, once straight from the pipe and
/// once through the reader. Two clients' header styles: Grpc.Net.Client (plain literals without indexing, a valid
/// authority: nothing to rewrite, every block walked) and grpc-go / etcdctl given an http:// endpoint (Huffman
/// literals with incremental indexing on the first request, whose URL authority is rewritten once, then indexed
/// references). Per operation = per request.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class Http2AuthorityBenchmarks
{
    private const int Requests = 1000;
    private const int ChunkBytes = 4096;
    private byte[] _dotnetStyle = [];
    private byte[] _goStyle = [];

    [GlobalSetup]
    public void BuildStreams()
    {
        _dotnetStyle = Connection(first: DotnetHeaders(), rest: DotnetHeaders());
        var goFirst = Concat([0x83, 0x86], Literal(0x40, 6, 4, "/etcdserverpb.KV/Range", huffman: true), Literal(0x40, 6, 1, "http://127.0.0.1:2379", huffman: true),
            Literal(0x40, 6, 31, "application/grpc", huffman: true), Literal(0x40, 6, 58, "grpc-go/1.26.0", huffman: true));
        byte[] goRest = [0x83, 0x86, 0xC1, 0xC0, 0xBF, 0xBE]; // :path 65, :authority 64, content-type 63, user-agent 62
        _goStyle = Connection(goFirst, goRest);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Requests)]
    public long PipeOnly_DotnetClient() => Pump(_dotnetStyle, repair: false);

    [Benchmark(OperationsPerInvoke = Requests)]
    public long RepairingReader_DotnetClient() => Pump(_dotnetStyle, repair: true);

    [Benchmark(OperationsPerInvoke = Requests)]
    public long PipeOnly_GoClientWithUrl() => Pump(_goStyle, repair: false);

    [Benchmark(OperationsPerInvoke = Requests)]
    public long RepairingReader_GoClientWithUrl() => Pump(_goStyle, repair: true);

    private static long Pump(byte[] stream, bool repair)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        PipeReader reader = repair ? new AuthorityRepairingReader(pipe.Reader, 4096) : pipe.Reader;
        long read = 0;
        for (var offset = 0; offset < stream.Length; offset += ChunkBytes)
        {
            pipe.Writer.Write(stream.AsSpan(offset, Math.Min(ChunkBytes, stream.Length - offset)));
            _ = pipe.Writer.FlushAsync().GetAwaiter().GetResult();
            while (reader.TryRead(out var result))
            {
                read += result.Buffer.Length;
                reader.AdvanceTo(result.Buffer.End);
            }
        }
        MvccWorkload.Require(read >= stream.Length && read <= stream.Length + 16, "every byte arrives (a rewritten URL authority is a few bytes longer once not Huffman-coded)");
        return read;
    }

    private static byte[] DotnetHeaders() => Concat([0x83, 0x86], Literal(0x00, 4, 4, "/etcdserverpb.KV/Range"), Literal(0x00, 4, 1, "127.0.0.1:2379"),
        Literal(0x00, 4, 31, "application/grpc"), Literal(0x00, 4, 58, "grpc-dotnet/2.67.0 (.NET 10.0.0; CLR 10.0.0; net10.0; linux; x64)"),
        NewNameLiteral("te", "trailers"), NewNameLiteral("grpc-accept-encoding", "identity,gzip,deflate"));

    private static byte[] Connection(byte[] first, byte[] rest)
    {
        var output = new List<byte>("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        output.AddRange(Frame(0x4, 0, 0, []));
        for (var i = 0; i < Requests; i++)
        {
            var streamId = (2 * i) + 1;
            output.AddRange(Frame(0x1, 0x4, streamId, i == 0 ? first : rest));
            output.AddRange(Frame(0x0, 0x1, streamId, new byte[30]));
        }
        return [.. output];
    }

    private static byte[] Frame(byte type, byte flags, int streamId, byte[] payload) =>
        Concat([(byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, type, flags,
            (byte)(streamId >> 24), (byte)(streamId >> 16), (byte)(streamId >> 8), (byte)streamId], payload);

    /// <summary>A literal field with a static name index (RFC 7541 §6.2; the index as an integer with a prefix, §5.1).</summary>
    private static byte[] Literal(byte pattern, int prefixBits, int nameIndex, string value, bool huffman = false)
    {
        var prefixMax = (1 << prefixBits) - 1;
        MvccWorkload.Require(nameIndex - prefixMax < 128, "name indexes here take at most two bytes");
        byte[] index = nameIndex < prefixMax ? [(byte)(pattern | nameIndex)] : [(byte)(pattern | prefixMax), (byte)(nameIndex - prefixMax)];
        return Concat(index, String(value, huffman));
    }

    private static byte[] NewNameLiteral(string name, string value) => Concat([0x00], String(name, huffman: false), String(value, huffman: false));

    private static byte[] String(string value, bool huffman)
    {
        var data = huffman ? Huffman(Encoding.ASCII.GetBytes(value)) : Encoding.ASCII.GetBytes(value);
        MvccWorkload.Require(data.Length < 127, "short strings only");
        return Concat([(byte)((huffman ? 0x80 : 0) | data.Length)], data);
    }

    private static byte[] Huffman(byte[] value)
    {
        var output = new List<byte>();
        ulong pending = 0;
        var bits = 0;
        foreach (var symbol in value)
        {
            var (code, length) = HuffmanCode.Of(symbol);
            pending = (pending << length) | code;
            bits += length;
            for (; bits >= 8; bits -= 8)
            {
                output.Add((byte)(pending >> (bits - 8)));
            }
        }
        if (bits > 0)
        {
            output.Add((byte)((pending << (8 - bits)) | ((1u << (8 - bits)) - 1)));
        }
        return [.. output];
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(part => part)];
}
