using System.Text;
using Parley.Server.Http2;

namespace Parley.Server.Tests.Http2;

/// <summary>How a literal field is sent (RFC 7541 §6.2): first-byte pattern and name-index prefix width.</summary>
public enum HpackLiteral
{
    Incremental,
    WithoutIndexing,
    NeverIndexed,
}

/// <summary>Builds header blocks field by field, as a client's HPACK encoder would (RFC 7541 §6), for tests.</summary>
public sealed class HpackTestEncoder
{
    private readonly List<byte> _bytes = [];

    public HpackTestEncoder Indexed(int index)
    {
        Integer(index, 7, 0x80);
        return this;
    }

    public HpackTestEncoder Literal(HpackLiteral kind, int nameIndex, string value, bool huffman = false)
    {
        Prefix(kind, nameIndex);
        String(value, huffman);
        return this;
    }

    public HpackTestEncoder Literal(HpackLiteral kind, string name, string value, bool huffmanName = false, bool huffmanValue = false)
    {
        Prefix(kind, 0);
        String(name, huffmanName);
        String(value, huffmanValue);
        return this;
    }

    public HpackTestEncoder SizeUpdate(int size)
    {
        Integer(size, 5, 0x20);
        return this;
    }

    public byte[] ToArray() => [.. _bytes];

    /// <summary>Huffman-codes a string with the code of <see cref="HuffmanCode"/>, padded with ones (§5.2).</summary>
    public static byte[] Huffman(ReadOnlySpan<byte> value)
    {
        var output = new List<byte>();
        ulong pending = 0;
        var bits = 0;
        foreach (var symbol in value)
        {
            var (code, length) = HuffmanCode.Of(symbol);
            pending = (pending << length) | code;
            bits += length;
            while (bits >= 8)
            {
                output.Add((byte)(pending >> (bits - 8)));
                bits -= 8;
            }
        }
        if (bits > 0)
        {
            output.Add((byte)((pending << (8 - bits)) | ((1u << (8 - bits)) - 1)));
        }
        return [.. output];
    }

    private void Prefix(HpackLiteral kind, int nameIndex)
    {
        switch (kind)
        {
            case HpackLiteral.Incremental:
                Integer(nameIndex, 6, 0x40);
                break;
            case HpackLiteral.WithoutIndexing:
                Integer(nameIndex, 4, 0x00);
                break;
            default:
                Integer(nameIndex, 4, 0x10);
                break;
        }
    }

    private void String(string value, bool huffman)
    {
        var raw = Encoding.Latin1.GetBytes(value);
        var data = huffman ? Huffman(raw) : raw;
        Integer(data.Length, 7, huffman ? (byte)0x80 : (byte)0x00);
        _bytes.AddRange(data);
    }

    private void Integer(int value, int prefixBits, byte flags)
    {
        var prefixMax = (1 << prefixBits) - 1;
        if (value < prefixMax)
        {
            _bytes.Add((byte)(flags | value));
            return;
        }
        _bytes.Add((byte)(flags | prefixMax));
        value -= prefixMax;
        while (value >= 128)
        {
            _bytes.Add((byte)((value % 128) + 128));
            value /= 128;
        }
        _bytes.Add((byte)value);
    }
}
