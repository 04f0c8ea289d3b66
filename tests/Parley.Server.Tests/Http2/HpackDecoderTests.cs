using Parley.Server.Http2;

namespace Parley.Server.Tests.Http2;

/// <summary><see cref="HpackDecoder"/>: RFC 7541's own examples, and blocks it must refuse.</summary>
public sealed class HpackDecoderTests
{
    [Fact]
    public void Rfc7541ResponsesWithHuffmanAndEviction_C6()
    {
        var decoder = new HpackDecoder(256);
        var fields = new List<(string Name, string Value)>();
        Assert.True(decoder.TryDecode(Convert.FromHexString("488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3"), fields));
        Assert.Equal([(":status", "302"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")], fields);
        Assert.Equal(4, decoder.DynamicCount);
        fields.Clear();
        Assert.True(decoder.TryDecode(Convert.FromHexString("4883640effc1c0bf"), fields));
        Assert.Equal([(":status", "307"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")], fields);
        fields.Clear();
        Assert.True(decoder.TryDecode(Convert.FromHexString(
            "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"), fields));
        Assert.Equal([(":status", "200"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"), ("location", "https://www.example.com"),
            ("content-encoding", "gzip"), ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")], fields);
        Assert.Equal(3, decoder.DynamicCount); // evicted down to 215 bytes
    }

    [Fact]
    public void RefusesBadBlocks()
    {
        var fields = new List<(string Name, string Value)>();
        Assert.False(new HpackDecoder().TryDecode([0xBF], fields)); // index 63: past the static table, nothing dynamic
        Assert.False(new HpackDecoder().TryDecode([0x3F, 0xE2, 0x1F], fields)); // a table size update to 4097, above 4096
        Assert.False(new HpackDecoder().TryDecode([0x40, 0x05, 0x61], fields)); // a name shorter than its length
        Assert.False(new HpackDecoder().TryDecode([0x00, 0x81, 0xFF, 0x00], fields)); // Huffman padding that is not EOS' prefix
    }
}
