using System.Text;
using Parley.Server.Http2;

namespace Parley.Server.Tests.Http2;

/// <summary>
/// A complete HPACK decoder (RFC 7541) for tests: it keeps names and values in its dynamic table, so decoding the
/// blocks a server would receive shows exactly which headers it would see, indexed references included.
/// </summary>
public sealed class HpackTestDecoder(int sizeMax = 4096)
{
    private static readonly (string Name, string Value)[] StaticTable =
    [
        (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"), (":path", "/index.html"),
        (":scheme", "http"), (":scheme", "https"), (":status", "200"), (":status", "204"), (":status", "206"),
        (":status", "304"), (":status", "400"), (":status", "404"), (":status", "500"), ("accept-charset", ""),
        ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""), ("accept", ""),
        ("access-control-allow-origin", ""), ("age", ""), ("allow", ""), ("authorization", ""), ("cache-control", ""),
        ("content-disposition", ""), ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
        ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""), ("date", ""),
        ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""), ("if-match", ""),
        ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""), ("if-unmodified-since", ""),
        ("last-modified", ""), ("link", ""), ("location", ""), ("max-forwards", ""), ("proxy-authenticate", ""),
        ("proxy-authorization", ""), ("range", ""), ("referer", ""), ("refresh", ""), ("retry-after", ""),
        ("server", ""), ("set-cookie", ""), ("strict-transport-security", ""), ("transfer-encoding", ""),
        ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
    ];

    private readonly List<(string Name, string Value)> _dynamic = []; // newest first
    private int _sizeMax = sizeMax;

    public int Size => _dynamic.Sum(entry => entry.Name.Length + entry.Value.Length + 32);

    public int Count => _dynamic.Count;

    public List<(string Name, string Value)> Decode(ReadOnlySpan<byte> block)
    {
        var fields = new List<(string, string)>();
        var position = 0;
        while (position < block.Length)
        {
            var first = block[position];
            if ((first & 0x80) != 0)
            {
                fields.Add(Entry(Integer(block, ref position, 7)));
            }
            else if ((first & 0xE0) == 0x20)
            {
                _sizeMax = Integer(block, ref position, 5);
                Evict(0);
            }
            else
            {
                var incremental = (first & 0x40) != 0;
                var nameIndex = Integer(block, ref position, incremental ? 6 : 4);
                var name = nameIndex == 0 ? String(block, ref position) : Entry(nameIndex).Name;
                var value = String(block, ref position);
                fields.Add((name, value));
                if (incremental)
                {
                    Add(name, value);
                }
            }
        }
        return fields;
    }

    private (string Name, string Value) Entry(int index)
    {
        Assert.InRange(index, 1, StaticTable.Length + _dynamic.Count);
        return index <= StaticTable.Length ? StaticTable[index - 1] : _dynamic[index - StaticTable.Length - 1];
    }

    private void Add(string name, string value)
    {
        var size = name.Length + value.Length + 32;
        Evict(size);
        if (size <= _sizeMax)
        {
            _dynamic.Insert(0, (name, value));
        }
    }

    private void Evict(int room)
    {
        while (_dynamic.Count > 0 && Size + room > _sizeMax)
        {
            _dynamic.RemoveAt(_dynamic.Count - 1);
        }
    }

    private static string String(ReadOnlySpan<byte> block, ref int position)
    {
        var huffman = (block[position] & 0x80) != 0;
        var length = Integer(block, ref position, 7);
        var data = block.Slice(position, length);
        position += length;
        if (!huffman)
        {
            return Encoding.Latin1.GetString(data);
        }
        var decoded = new byte[length * 8 / 5 + 1];
        Assert.True(HuffmanCode.TryDecode(data, decoded, out var written), "valid Huffman data");
        return Encoding.Latin1.GetString(decoded, 0, written);
    }

    private static int Integer(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        var prefixMax = (1 << prefixBits) - 1;
        var value = block[position++] & prefixMax;
        if (value < prefixMax)
        {
            return value;
        }
        var multiplier = 1;
        while (true)
        {
            var octet = block[position++];
            value += (octet & 0x7F) * multiplier;
            multiplier *= 128;
            if ((octet & 0x80) == 0)
            {
                return value;
            }
        }
    }
}
