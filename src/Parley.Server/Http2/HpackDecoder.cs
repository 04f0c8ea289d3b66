using System.Text;

namespace Parley.Server.Http2;

/// <summary>
/// Decodes the header blocks one side of an HTTP/2 connection sends (RFC 7541), names and values; the bench's client
/// decodes responses with it, tests decode what a server would see: indexed fields, literals with,
/// without and never indexing (plain or Huffman-coded), dynamic table size updates. Blocks must be decoded in the order
/// they arrive, every one of them, so that the dynamic table stays in step with the server's encoder.
/// </summary>
internal sealed class HpackDecoder
{
    /// <summary>SETTINGS_HEADER_TABLE_SIZE's initial value: the table size a peer may use unless told otherwise.</summary>
    public const int DefaultTableSize = 4096;

    private const int EntryOverheadBytes = 32;
    private const int StackDecodeBytesMax = 512;

    /// <summary>The static table (RFC 7541 Appendix A), index 1 first.</summary>
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

    // The dynamic table, newest entry last: a ring of at most tableSizeAllowedMax / 32 entries.
    private readonly (string Name, string Value, int Size)[] _ring;
    private readonly int _sizeAllowedMax;
    private int _oldest;
    private int _count;
    private int _size;
    private int _sizeMax;

    /// <param name="tableSizeAllowedMax">this side's SETTINGS_HEADER_TABLE_SIZE: the most the encoder may use</param>
    public HpackDecoder(int tableSizeAllowedMax = DefaultTableSize)
    {
        _sizeAllowedMax = tableSizeAllowedMax;
        _sizeMax = tableSizeAllowedMax;
        _ring = new (string, string, int)[Math.Max(1, tableSizeAllowedMax / EntryOverheadBytes)];
    }

    /// <summary>
    /// Decodes one complete header block, appending its fields to <paramref name="fields"/> in order. False if the
    /// block is not valid HPACK: the connection must then end (its table is no longer in step; RFC 7540 §4.3).
    /// </summary>
    public bool TryDecode(ReadOnlySpan<byte> block, List<(string Name, string Value)> fields)
    {
        var position = 0;
        while (position < block.Length)
        {
            var first = block[position];
            if ((first & 0x80) != 0)
            {
                if (!HpackAuthorityEditor.TryReadInteger(block, ref position, 7, out var index) || !TryGet(index, out var field))
                {
                    return false;
                }
                fields.Add(field);
            }
            else if ((first & 0xE0) == 0x20)
            {
                if (!HpackAuthorityEditor.TryReadInteger(block, ref position, 5, out var sizeMax) || sizeMax > _sizeAllowedMax)
                {
                    return false;
                }
                _sizeMax = sizeMax;
                Evict(0);
            }
            else
            {
                // 01xxxxxx: with incremental indexing (6-bit name index); 0000xxxx without, 0001xxxx never indexed (4-bit)
                var incremental = (first & 0xC0) == 0x40;
                if (!HpackAuthorityEditor.TryReadInteger(block, ref position, incremental ? 6 : 4, out var nameIndex))
                {
                    return false;
                }
                string name;
                if (nameIndex == 0)
                {
                    if (!TryReadString(block, ref position, out name))
                    {
                        return false;
                    }
                }
                else if (TryGet(nameIndex, out var named))
                {
                    name = named.Name;
                }
                else
                {
                    return false;
                }
                if (!TryReadString(block, ref position, out var value))
                {
                    return false;
                }
                fields.Add((name, value));
                if (incremental)
                {
                    Add(name, value);
                }
            }
        }
        return true;
    }

    /// <summary>Entries in the dynamic table.</summary>
    public int DynamicCount => _count;

    /// <summary>The dynamic table's size in octets (§4.1).</summary>
    public int DynamicSize => _size;

    private bool TryGet(int index, out (string Name, string Value) field)
    {
        if (index >= 1 && index <= StaticTable.Length)
        {
            field = StaticTable[index - 1];
            return true;
        }
        var age = index - StaticTable.Length - 1; // 0 = the newest entry
        if (age >= 0 && age < _count)
        {
            var entry = _ring[(_oldest + _count - 1 - age) % _ring.Length];
            field = (entry.Name, entry.Value);
            return true;
        }
        field = default;
        return false;
    }

    private void Add(string name, string value)
    {
        var size = name.Length + value.Length + EntryOverheadBytes; // octets: the strings hold one char per octet
        Evict(size);
        if (size > _sizeMax)
        {
            return; // larger than the table: the table is now empty and the entry is not added (§4.4)
        }
        _ring[(_oldest + _count) % _ring.Length] = (name, value, size);
        _count++;
        _size += size;
    }

    /// <summary>Evicts the oldest entries until <paramref name="room"/> more octets fit under the maximum size.</summary>
    private void Evict(int room)
    {
        while (_count > 0 && _size + room > _sizeMax)
        {
            _size -= _ring[_oldest].Size;
            _ring[_oldest] = default;
            _oldest = (_oldest + 1) % _ring.Length;
            _count--;
        }
    }

    private static bool TryReadString(ReadOnlySpan<byte> block, ref int position, out string text)
    {
        text = "";
        if (position >= block.Length)
        {
            return false;
        }
        var huffman = (block[position] & 0x80) != 0;
        if (!HpackAuthorityEditor.TryReadInteger(block, ref position, 7, out var length) || length > block.Length - position)
        {
            return false;
        }
        var encoded = block.Slice(position, length);
        position += length;
        if (!huffman)
        {
            text = Encoding.Latin1.GetString(encoded);
            return true;
        }
        if (!HuffmanCode.TryGetDecodedLength(encoded, out var decodedLength))
        {
            return false;
        }
        var decoded = decodedLength <= StackDecodeBytesMax ? stackalloc byte[decodedLength] : new byte[decodedLength];
        if (!HuffmanCode.TryDecode(encoded, decoded, out _))
        {
            return false;
        }
        text = Encoding.Latin1.GetString(decoded);
        return true;
    }
}
