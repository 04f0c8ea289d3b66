using Parley.Server.Http2;

namespace Parley.Server.Tests.Http2;

/// <summary>
/// <see cref="HpackDecoder"/> for tests: decoding the blocks a server would receive shows exactly which headers it
/// would see, indexed references included; a block that is not valid HPACK fails the test.
/// </summary>
public sealed class HpackTestDecoder(int sizeMax = HpackDecoder.DefaultTableSize)
{
    private readonly HpackDecoder _decoder = new(sizeMax);

    public int Size => _decoder.DynamicSize;

    public int Count => _decoder.DynamicCount;

    public List<(string Name, string Value)> Decode(ReadOnlySpan<byte> block)
    {
        var fields = new List<(string Name, string Value)>();
        Assert.True(_decoder.TryDecode(block, fields), "not a valid HPACK block");
        return fields;
    }
}
