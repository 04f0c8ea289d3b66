namespace Parley.Server.Http2;

/// <summary>
/// Follows the HPACK dynamic table of the server's decoder (RFC 7541 §2.3.2, §4) without storing any header: per
/// entry only its name length, its size and whether its name is <c>:authority</c>. That is enough to resolve which
/// name an index refers to and to evict exactly as the decoder does.
/// </summary>
internal sealed class HpackTableShadow
{
    public const int StaticEntryCount = 61;
    public const int EntryOverheadBytes = 32;

    /// <summary>Names of the static table (RFC 7541 Appendix A), index 1 first.</summary>
    private static readonly string[] StaticNames =
    [
        ":authority", ":method", ":method", ":path", ":path", ":scheme", ":scheme", ":status", ":status", ":status",
        ":status", ":status", ":status", ":status", "accept-charset", "accept-encoding", "accept-language",
        "accept-ranges", "accept", "access-control-allow-origin", "age", "allow", "authorization", "cache-control",
        "content-disposition", "content-encoding", "content-language", "content-length", "content-location",
        "content-range", "content-type", "cookie", "date", "etag", "expect", "expires", "from", "host", "if-match",
        "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "link", "location",
        "max-forwards", "proxy-authenticate", "proxy-authorization", "range", "referer", "refresh", "retry-after",
        "server", "set-cookie", "strict-transport-security", "transfer-encoding", "user-agent", "vary", "via",
        "www-authenticate",
    ];

    private readonly Entry[] _ring;
    private readonly int _sizeAllowedMax;
    private int _oldest;
    private int _count;
    private int _size;
    private int _sizeMax;

    /// <param name="sizeAllowedMax">the decoder's SETTINGS_HEADER_TABLE_SIZE, which is also the table's initial maximum size</param>
    public HpackTableShadow(int sizeAllowedMax)
    {
        Parley.Raft.Invariant.Check(sizeAllowedMax >= 0, "a header table size is not negative");
        _sizeAllowedMax = sizeAllowedMax;
        _sizeMax = sizeAllowedMax;
        _ring = new Entry[Math.Max(1, sizeAllowedMax / EntryOverheadBytes)];
    }

    public int Count => _count;

    public int Size => _size;

    /// <summary>Resolves a field's name index: false if it refers to no entry (a decoding error).</summary>
    public bool TryGetName(int index, out int nameLength, out bool isAuthority)
    {
        if (index >= 1 && index <= StaticEntryCount)
        {
            nameLength = StaticNames[index - 1].Length;
            isAuthority = index == 1;
            return true;
        }
        var age = index - StaticEntryCount - 1; // 0 = the newest entry
        if (age >= 0 && age < _count)
        {
            var entry = _ring[(_oldest + _count - 1 - age) % _ring.Length];
            nameLength = entry.NameLength;
            isAuthority = entry.IsAuthority;
            return true;
        }
        nameLength = 0;
        isAuthority = false;
        return false;
    }

    public bool IsValidIndex(int index) => index >= 1 && index <= StaticEntryCount + _count;

    /// <summary>A literal with incremental indexing adds its field, evicting the oldest entries to make room (§4.4).</summary>
    public void Add(int nameLength, int valueLength, bool isAuthority)
    {
        var entrySize = (long)nameLength + valueLength + EntryOverheadBytes;
        while (_count > 0 && _size + entrySize > _sizeMax)
        {
            EvictOldest();
        }
        if (entrySize > _sizeMax)
        {
            return; // larger than the table: the table is now empty and the entry is not added
        }
        Parley.Raft.Invariant.Check(_count < _ring.Length, "entries of at least 32 bytes fit the ring sized for the largest table");
        _ring[(_oldest + _count) % _ring.Length] = new Entry(nameLength, (int)entrySize, isAuthority);
        _count++;
        _size += (int)entrySize;
    }

    /// <summary>A dynamic table size update (§6.3); false if it exceeds the decoder's setting (a decoding error).</summary>
    public bool TrySetSizeMax(int sizeMax)
    {
        if (sizeMax > _sizeAllowedMax)
        {
            return false;
        }
        _sizeMax = sizeMax;
        while (_size > _sizeMax)
        {
            EvictOldest();
        }
        return true;
    }

    private void EvictOldest()
    {
        _size -= _ring[_oldest].Size;
        _oldest = (_oldest + 1) % _ring.Length;
        _count--;
    }

    private readonly record struct Entry(int NameLength, int Size, bool IsAuthority);
}
