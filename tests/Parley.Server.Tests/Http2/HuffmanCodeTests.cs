using System.Text;
using Parley.Server.Http2;

namespace Parley.Server.Tests.Http2;

/// <summary>HPACK's Huffman code (RFC 7541 §5.2, Appendix B), checked against the RFC's own examples (Appendix C).</summary>
public class HuffmanCodeTests
{
    [Theory]
    [InlineData("www.example.com", "f1e3c2e5f23a6ba0ab90f4ff")] // C.4.1
    [InlineData("no-cache", "a8eb10649cbf")] // C.4.2
    [InlineData("custom-key", "25a849e95ba97d7f")] // C.4.3
    [InlineData("custom-value", "25a849e95bb8e8b4bf")] // C.4.3
    [InlineData("302", "6402")] // C.6.1
    [InlineData("private", "aec3771a4b")] // C.6.1
    [InlineData("Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff")] // C.6.1
    [InlineData("https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3")] // C.6.1
    [InlineData("gzip", "9bd9ab")] // C.6.3
    [InlineData("foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
        "94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007")] // C.6.3
    public void Rfc7541Examples_DecodeAndEncode(string text, string hex)
    {
        var encoded = Convert.FromHexString(hex);
        Assert.True(HuffmanCode.TryGetDecodedLength(encoded, out var length));
        Assert.Equal(text.Length, length);
        var decoded = new byte[length];
        Assert.True(HuffmanCode.TryDecode(encoded, decoded, out var written));
        Assert.Equal(text, Encoding.ASCII.GetString(decoded, 0, written));
        Assert.Equal(encoded, HpackTestEncoder.Huffman(Encoding.ASCII.GetBytes(text)));
    }

    [Fact]
    public void Codes_MatchAppendixB_AtItsEdges()
    {
        Assert.Equal((0x1ff8u, 13), HuffmanCode.Of(0));
        Assert.Equal((0x7fffd8u, 23), HuffmanCode.Of(1));
        Assert.Equal((0x3ffffffcu, 30), HuffmanCode.Of(10));
        Assert.Equal((0x0u, 5), HuffmanCode.Of('0'));
        Assert.Equal((0x14u, 6), HuffmanCode.Of(' '));
        Assert.Equal((0x3ffffeeu, 26), HuffmanCode.Of(255));
        Assert.Equal((0x3fffffffu, 30), HuffmanCode.Of(HuffmanCode.EndOfString));
    }

    [Fact]
    public void EveryByte_RoundTrips()
    {
        var all = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();
        var encoded = HpackTestEncoder.Huffman(all);
        var decoded = new byte[256];
        Assert.True(HuffmanCode.TryDecode(encoded, decoded, out var written));
        Assert.Equal(all, decoded[..written]);
    }

    [Theory]
    [InlineData("ffffffff", "EOS (30 ones) inside the string")]
    [InlineData("f1e3c2e5f23a6ba0ab90f4ffff", "padding of 8 or more bits")]
    [InlineData("f1e3c2e5f23a6ba0ab90f4fe", "padding that is not all ones")]
    public void InvalidEncodings_AreRefused(string hex, string why)
    {
        Assert.False(HuffmanCode.TryGetDecodedLength(Convert.FromHexString(hex), out _), why);
    }

    [Fact]
    public void Decode_RefusesADestinationTooSmall()
    {
        Assert.False(HuffmanCode.TryDecode(Convert.FromHexString("f1e3c2e5f23a6ba0ab90f4ff"), new byte[14], out _));
    }
}
