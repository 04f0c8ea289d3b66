using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Parley.Server.Http2;
using static Parley.Server.Tests.Http2.Http2TestFrames;

namespace Parley.Server.Tests.Http2;

/// <summary>
/// The client-to-server byte stream as Kestrel reads it through <see cref="AuthorityRepairingReader"/>: header
/// blocks whose :authority Kestrel refuses are rewritten with a same-length host, everything else passes byte for
/// byte, and the server's HPACK table stays in step with the client's.
/// </summary>
public class AuthorityRepairingReaderTests
{
    private const string Url = "http://127.0.0.1:2379";
    private const string Repaired = "http---127.0.0.1:2379";

    /// <summary>etcdctl 3.4 `--endpoints=http://127.0.0.1:23799 endpoint status`, captured from the wire: SETTINGS,
    /// SETTINGS ack, HEADERS (a Huffman-coded ":authority: http://127.0.0.1:23799" with incremental indexing), DATA.</summary>
    private const string EtcdctlEndpointStatusHex =
        "505249202a20485454502f322e300d0a0d0a534d0d0a0d0a0000000400000000000000000401000000000000770104000000018386459760a924882d9dcb6571afa066a925a87510ac6e48d36a3f41909d29aee30c044eae05c0b86e09975f7f5f8b1d75d0620d263d4c4d65647a8b9acac8b4c7602bb2caecff40027465864d833505b11f40899acac8b24d494f6a7f8669f79f085ab7408d25062d495875996ee5b1063d5f03332e340000050001000000010000000000";

    [Fact]
    public void EtcdctlRequest_WithHuffmanAuthorityUrl_ReachesTheServerWithARepairedHost()
    {
        var input = Convert.FromHexString(EtcdctlEndpointStatusHex);
        var (output, rewritten, _) = Run([input]);
        Assert.Equal(1, rewritten);
        var sent = new HpackTestDecoder().Decode(HeaderBlocks(Parse(input))[0].Block);
        Assert.Contains((":authority", "http://127.0.0.1:23799"), sent);
        Assert.Contains((":path", "/etcdserverpb.Maintenance/Status"), sent);
        var seen = new HpackTestDecoder().Decode(HeaderBlocks(Parse(output))[0].Block);
        Assert.Equal(sent.Select(field => field.Name == ":authority" ? (field.Name, "http---127.0.0.1:23799") : field), seen);
        // Every other frame is unchanged, in order.
        var before = Parse(input).Where(frame => frame.Type != Headers).ToList();
        var after = Parse(output).Where(frame => frame.Type != Headers).ToList();
        Assert.Equal(before.Select(Describe), after.Select(Describe));
    }

    [Theory]
    [InlineData(false, HpackLiteral.Incremental)]
    [InlineData(true, HpackLiteral.Incremental)]
    [InlineData(false, HpackLiteral.WithoutIndexing)]
    [InlineData(true, HpackLiteral.NeverIndexed)]
    public void AuthorityUrl_IsRepaired_KeepingItsRepresentation(bool huffman, HpackLiteral kind)
    {
        var block = Post("/kv").Literal(kind, 1, Url, huffman).ToArray();
        var input = Connection(HeaderBlock(1, block));
        var (output, rewritten, _) = Run([input]);
        Assert.Equal(1, rewritten);
        var outputBlock = HeaderBlocks(Parse(output))[0].Block;
        Assert.Equal([(":method", "POST"), (":scheme", "http"), (":path", "/kv"), (":authority", Repaired)], new HpackTestDecoder().Decode(outputBlock));
        var representation = outputBlock[^(Repaired.Length + 2)];
        Assert.Equal(kind switch { HpackLiteral.Incremental => 0x41, HpackLiteral.WithoutIndexing => 0x01, _ => 0x11 }, representation);
        Assert.Equal(Repaired.Length, outputBlock[^(Repaired.Length + 1)]); // a plain literal: H = 0, the decoded length
    }

    [Fact]
    public void IndexedReferences_AfterARewrite_ResolveToTheRepairedValue_AndTablesKeepTheirSize()
    {
        // Request 1 adds :path and :authority (Huffman) to the table; request 2 refers to both by index; request 3
        // adds enough to evict them, then sends the URL again as a literal naming :authority by its dynamic index.
        var first = Post("/etcdserverpb.KV/Range").Literal(HpackLiteral.Incremental, 1, Url, huffman: true).ToArray();
        var second = new HpackTestEncoder().Indexed(3).Indexed(6).Indexed(63).Indexed(62).ToArray(); // :path is older, then :authority
        var third = new HpackTestEncoder().Indexed(3).Indexed(6).Literal(HpackLiteral.Incremental, "x-big", new string('b', 4000))
            .Literal(HpackLiteral.Incremental, 4, "/p").Literal(HpackLiteral.Incremental, 1, "http://10.0.0.1:2379", huffman: true)
            .Literal(HpackLiteral.WithoutIndexing, 62, "https://10.0.0.2:2379").ToArray();
        var fourth = new HpackTestEncoder().Indexed(3).Indexed(6).Indexed(63).Indexed(62).ToArray();
        var input = Connection(HeaderBlock(1, first), HeaderBlock(3, second), HeaderBlock(5, third), HeaderBlock(7, fourth));
        var (output, rewritten, _) = Run([input]);
        Assert.Equal(2, rewritten);
        var client = new HpackTestDecoder();
        var server = new HpackTestDecoder();
        var inBlocks = HeaderBlocks(Parse(input));
        var outBlocks = HeaderBlocks(Parse(output));
        Assert.Equal(4, outBlocks.Count);
        var seen = new List<List<(string Name, string Value)>>();
        for (var i = 0; i < 4; i++)
        {
            var sent = client.Decode(inBlocks[i].Block);
            seen.Add(server.Decode(outBlocks[i].Block));
            Assert.Equal(sent.Select(field => field.Name == ":authority" ? (field.Name, Repair(field.Value)) : field), seen[i]);
            Assert.Equal((client.Count, client.Size), (server.Count, server.Size));
        }
        Assert.Equal((":authority", Repaired), seen[1][3]);
        Assert.Equal([(":method", "POST"), (":scheme", "http"), (":path", "/p"), (":authority", "http---10.0.0.1:2379")], seen[3]);
        Assert.Contains((":authority", "https---10.0.0.2:2379"), seen[2]);
    }

    [Fact]
    public void AuthorityWithALiteralName_HuffmanCoded_IsRepaired()
    {
        var block = Post("/a").Literal(HpackLiteral.Incremental, ":authority", Url, huffmanName: true, huffmanValue: true)
            .Literal(HpackLiteral.WithoutIndexing, ":authorityx", Url).ToArray();
        var (output, _, _) = Run([Connection(HeaderBlock(1, block))]);
        var seen = new HpackTestDecoder().Decode(HeaderBlocks(Parse(output))[0].Block);
        Assert.Equal((":authority", Repaired), seen[3]);
        Assert.Equal((":authorityx", Url), seen[4]); // another name: left alone
    }

    [Fact]
    public void BlocksWithoutAuthority_OrWithAnAcceptableOne_PassByteForByte()
    {
        var input = Connection(
            HeaderBlock(1, Post("/a").ToArray()),
            Frame(Data, EndStream, 1, new byte[100]),
            HeaderBlock(3, Post("/b").Literal(HpackLiteral.Incremental, 1, "127.0.0.1:2379", huffman: true).ToArray(), padding: 3, priority: true),
            HeaderBlock(5, Post("/c").Indexed(62).SizeUpdate(0).ToArray(), endStream: false, padding: -1, priority: false, 3, 2),
            Frame(Ping, 0, 0, new byte[8]),
            Frame(WindowUpdate, 0, 0, [0, 0, 1, 0]));
        var (output, rewritten, _) = Run([input]);
        Assert.Equal(0, rewritten);
        Assert.Equal(input, output);
    }

    [Fact]
    public void PaddedHeaders_WithPriority_AreRewrittenWithoutPadding_KeepingPriorityAndEndStream()
    {
        var block = Post("/padded").Literal(HpackLiteral.Incremental, 1, Url, huffman: true).ToArray();
        var (output, _, _) = Run([Connection(HeaderBlock(9, block, endStream: true, padding: 17, priority: true))]);
        var frame = Assert.Single(Parse(output), frame => frame.Type == Headers);
        Assert.Equal(EndStream | EndHeaders | Priority, frame.Flags);
        Assert.Equal(9, frame.StreamId);
        Assert.Equal([0x80, 0, 0, 0x03, 0x0F], frame.Payload[..5]);
        Assert.Equal((":authority", Repaired), new HpackTestDecoder().Decode(frame.Payload[5..])[3]);
    }

    [Fact]
    public void SplitContinuationFrames_AreRewritten_AsOneBlock()
    {
        var block = Post("/split").Literal(HpackLiteral.Incremental, 1, Url, huffman: true).Literal(HpackLiteral.WithoutIndexing, "x-after", "after").ToArray();
        var input = Connection(HeaderBlock(1, block, endStream: false, padding: 2, priority: false, 4, 14), Frame(Data, EndStream, 1, [1, 2, 3]));
        var (output, rewritten, _) = Run([input]);
        Assert.Equal(1, rewritten);
        var frames = Parse(output);
        Assert.Equal([Settings, Headers, Data], frames.Select(frame => frame.Type));
        Assert.Equal(EndHeaders, frames[1].Flags); // END_STREAM stays off, padding is gone
        Assert.Equal([(":method", "POST"), (":scheme", "http"), (":path", "/split"), (":authority", Repaired), ("x-after", "after")],
            new HpackTestDecoder().Decode(frames[1].Payload));
        Assert.Equal([1, 2, 3], frames[2].Payload);
    }

    [Fact]
    public void ARewrittenBlockLargerThanAFrame_IsSplitIntoContinuations_WithinTheDefaultMaxFrameSize()
    {
        var big = new string('v', 3000);
        var encoder = Post("/big");
        for (var i = 0; i < 12; i++)
        {
            encoder.Literal(HpackLiteral.WithoutIndexing, "x-field-" + i, big);
        }
        var block = encoder.Literal(HpackLiteral.WithoutIndexing, 1, Url + new string('0', 200), huffman: true).ToArray();
        var input = Connection(HeaderBlock(1, block, endStream: true, padding: -1, priority: true, 16_000, 16_384));
        var (output, rewritten, _) = Run([input], consumeAtMost: 1000);
        Assert.Equal(1, rewritten);
        var frames = Parse(output);
        Assert.All(frames, frame => Assert.InRange(frame.Payload.Length, 0, Http2RequestScanner.FramePayloadBytesMax));
        Assert.Equal([Settings, Headers, Continuation, Continuation], frames.Select(frame => frame.Type));
        Assert.Equal([EndStream | Priority, 0, EndHeaders], frames.Skip(1).Select(frame => (int)frame.Flags));
        var seen = new HpackTestDecoder().Decode(HeaderBlocks(frames)[0].Block);
        Assert.Equal(16, seen.Count);
        Assert.Equal((":authority", Repaired + new string('0', 200)), seen[^1]);
    }

    [Fact]
    public void FramesSplitAcrossReads_AtEveryByteBoundary_GiveTheSameBytes()
    {
        var input = Connection(
            HeaderBlock(1, Post("/one").Literal(HpackLiteral.Incremental, 1, Url, huffman: true).ToArray(), endStream: false, padding: 5, priority: true, 10),
            Frame(Data, EndStream, 1, Enumerable.Range(0, 40).Select(i => (byte)i).ToArray()),
            HeaderBlock(3, new HpackTestEncoder().Indexed(3).Indexed(6).Indexed(63).Indexed(62).ToArray()),
            HeaderBlock(5, Post("/three").Literal(HpackLiteral.NeverIndexed, 1, "https://h:1").ToArray()));
        var (expected, rewritten, _) = Run([input]);
        Assert.Equal(2, rewritten);
        for (var split = 1; split < input.Length; split++)
        {
            Assert.Equal(expected, Run([input[..split], input[split..]]).Output);
        }
        var bytes = input.Select(b => new[] { b }).ToArray();
        Assert.Equal(expected, Run(bytes).Output);
        var segmented = Run([input], segmentBytes: 16);
        Assert.Equal(expected, segmented.Output); // every frame and block across segments
        Assert.True(segmented.SawSegments);
        Assert.Equal(expected, Run(bytes, consumeAtMost: 5, segmentBytes: 16).Output);
        Assert.Equal(expected, Run(bytes, consumeAtMost: 7).Output);
        for (var split = 1; split < input.Length; split++)
        {
            Assert.Equal(expected, Run([input[..split], input[split..]], consumeAtMost: 3).Output);
        }
    }

    [Fact]
    public async Task DataFrames_PassBeforeTheirPayloadIsComplete()
    {
        var data = Frame(Data, 0, 1, new byte[10_000]);
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var reader = new AuthorityRepairingReader(pipe.Reader, 4096);
        pipe.Writer.Write(Connection(data[..500]));
        await pipe.Writer.FlushAsync();
        Assert.True(reader.TryRead(out var result));
        Assert.Equal(Preface.Length + 9 + 500, result.Buffer.Length);
        reader.AdvanceTo(result.Buffer.End);
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public async Task AHeaderBlock_IsHeldUntilComplete()
    {
        var block = HeaderBlock(1, Post("/held").Literal(HpackLiteral.Incremental, 1, Url).ToArray(), endStream: true, padding: -1, priority: false, 20);
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var reader = new AuthorityRepairingReader(pipe.Reader, 4096);
        pipe.Writer.Write(Connection(block[..^1]));
        await pipe.Writer.FlushAsync();
        Assert.True(reader.TryRead(out var result));
        Assert.Equal(Preface.Length + 9, result.Buffer.Length); // the preface and SETTINGS, not the incomplete block
        reader.AdvanceTo(result.Buffer.End);
        Assert.False(reader.TryRead(out _));
        pipe.Writer.Write(block[^1..]);
        await pipe.Writer.FlushAsync();
        Assert.True(reader.TryRead(out result));
        Assert.Equal(Headers, result.Buffer.FirstSpan[3]);
    }

    [Theory]
    [InlineData("82ff", "an index past the table")]
    [InlineData("3fe21f", "a table size update to 4097, above the server's 4096")]
    [InlineData("4188", "a string literal longer than the block")]
    [InlineData("4181ff", "an invalid Huffman :authority")]
    public void AMalformedBlock_SwitchesRepairOff_AndEverythingPassesUnchanged(string blockHex, string why)
    {
        var input = Connection(
            HeaderBlock(1, Convert.FromHexString(blockHex)),
            HeaderBlock(3, Post("/after").Literal(HpackLiteral.Incremental, 1, Url).ToArray()));
        var (output, rewritten, _) = Run([input]);
        Assert.True(rewritten == 0, why);
        Assert.Equal(input, output);
    }

    [Fact]
    public void AContinuationOutOfPlace_OrABadPreface_SwitchesRepairOff()
    {
        var request = HeaderBlock(3, Post("/x").Literal(HpackLiteral.Incremental, 1, Url).ToArray());
        var stray = Connection(Frame(Continuation, EndHeaders, 1, [0x82]), request);
        Assert.Equal(stray, Run([stray]).Output);
        var badPreface = Concat("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"u8.ToArray(), Frame(Settings, 0, 0, []), request);
        Assert.Equal(badPreface, Run([badPreface]).Output);
    }

    private static HpackTestEncoder Post(string path) => new HpackTestEncoder().Indexed(3).Indexed(6).Literal(HpackLiteral.Incremental, 4, path, huffman: true);

    private static byte[] Connection(params byte[][] frames) => Concat([Preface, Frame(Settings, 0, 0, []), .. frames]);

    private static string Repair(string value)
    {
        var repaired = new byte[value.Length];
        HostSyntax.Repair(Encoding.Latin1.GetBytes(value), repaired);
        return HostSyntax.IsAcceptable(Encoding.Latin1.GetBytes(value)) ? value : Encoding.Latin1.GetString(repaired);
    }

    private static string Describe(Http2TestFrame frame) => $"{frame.Type}/{frame.Flags}/{frame.StreamId}/{Convert.ToHexString(frame.Payload)}";

    /// <summary>
    /// Writes <paramref name="chunks"/> one at a time into a pipe (of <paramref name="segmentBytes"/> segments) and,
    /// after each, reads everything the reader hands out, consuming at most <paramref name="consumeAtMost"/> bytes
    /// per read as Kestrel's copy loop may.
    /// </summary>
    private static (byte[] Output, int Rewritten, bool SawSegments) Run(IEnumerable<byte[]> chunks, int consumeAtMost = int.MaxValue, int segmentBytes = 4096)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, minimumSegmentSize: segmentBytes));
        var reader = new AuthorityRepairingReader(pipe.Reader, 4096);
        var output = new List<byte>();
        var sawSegments = false;
        foreach (var chunk in chunks)
        {
            pipe.Writer.Write(chunk);
            pipe.Writer.FlushAsync().AsTask().GetAwaiter().GetResult();
            Assert.False(Drain(reader, output, consumeAtMost, ref sawSegments));
        }
        pipe.Writer.Complete();
        Assert.True(Drain(reader, output, consumeAtMost, ref sawSegments));
        return (output.ToArray(), reader.RewrittenBlocks, sawSegments);
    }

    /// <summary>True once the reader reported the end of the stream.</summary>
    private static bool Drain(AuthorityRepairingReader reader, List<byte> output, int consumeAtMost, ref bool sawSegments)
    {
        for (var reads = 0; reads < 1_000_000; reads++)
        {
            if (!reader.TryRead(out var result))
            {
                return false;
            }
            sawSegments |= !result.Buffer.IsSingleSegment;
            var take = Math.Min(result.Buffer.Length, consumeAtMost);
            output.AddRange(result.Buffer.Slice(0, take).ToArray());
            reader.AdvanceTo(result.Buffer.GetPosition(take));
            if (result.IsCompleted && take == result.Buffer.Length)
            {
                return true;
            }
        }
        throw new InvalidOperationException("the reader kept handing out bytes");
    }
}
