namespace Parley.Server.Http2;

/// <summary>
/// Walks the header blocks a client sends (RFC 7541 §6: indexed fields, literals with, without and never indexing,
/// dynamic table size updates), keeping a <see cref="HpackTableShadow"/> in step with the server's decoder, and
/// finds the <c>:authority</c> literals whose value Kestrel would refuse (<see cref="HostSyntax"/>). Every block must
/// be walked, in order, so that indexes keep resolving to the right names.
/// </summary>
/// <remarks>
/// A replaced value keeps its decoded length and its representation (with, without or never indexing), so the
/// entry it adds to the server's table has the same size as the one in the client's table and later indexes stay
/// aligned; a later indexed reference to it reads the repaired value from the server's own table.
/// </remarks>
internal sealed class HpackAuthorityEditor(int headerTableSize)
{
    /// <summary>More replacements than this in one block mark it malformed (a request has one :authority).</summary>
    public const int EditsPerBlockMax = 16;

    private const int StackDecodeBytesMax = 256;
    private static ReadOnlySpan<byte> AuthorityName => ":authority"u8;

    private readonly HpackTableShadow _table = new(headerTableSize);

    /// <summary>
    /// Walks one complete header block, updating the table and appending the replacements it needs to
    /// <paramref name="edits"/> in block order. False when the block is not valid HPACK; the table is then no longer
    /// in step and the caller must stop editing this connection (the server rejects the block itself).
    /// </summary>
    public bool TryWalk(ReadOnlySpan<byte> block, List<AuthorityEdit> edits)
    {
        var position = 0;
        while (position < block.Length)
        {
            var first = block[position];
            if ((first & 0x80) != 0)
            {
                if (!TryReadInteger(block, ref position, 7, out var index) || !_table.IsValidIndex(index))
                {
                    return false;
                }
            }
            else if ((first & 0xE0) == 0x20)
            {
                if (!TryReadInteger(block, ref position, 5, out var sizeMax) || !_table.TrySetSizeMax(sizeMax))
                {
                    return false;
                }
            }
            else if (!TryWalkLiteral(block, ref position, edits))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The length of <paramref name="block"/> once <paramref name="edits"/> are applied.</summary>
    public static int RewrittenLength(ReadOnlySpan<byte> block, List<AuthorityEdit> edits)
    {
        var length = block.Length;
        foreach (var edit in edits)
        {
            length += IntegerLength(edit.Value.Length, 7) + edit.Value.Length - edit.EncodedLength;
        }
        return length;
    }

    /// <summary>Copies <paramref name="block"/> with each edited string literal replaced by a plain (non-Huffman) one.</summary>
    public static void Rewrite(ReadOnlySpan<byte> block, List<AuthorityEdit> edits, Span<byte> destination)
    {
        var read = 0;
        var written = 0;
        foreach (var edit in edits)
        {
            Parley.Raft.Invariant.Check(edit.Offset >= read, "edits come in block order");
            block[read..edit.Offset].CopyTo(destination[written..]);
            written += edit.Offset - read;
            written += WriteInteger(edit.Value.Length, 7, 0x00, destination[written..]);
            edit.Value.CopyTo(destination[written..]);
            written += edit.Value.Length;
            read = edit.Offset + edit.EncodedLength;
        }
        block[read..].CopyTo(destination[written..]);
        written += block.Length - read;
        Parley.Raft.Invariant.Check(written == destination.Length, "a rewritten block fills exactly its computed length");
    }

    private bool TryWalkLiteral(ReadOnlySpan<byte> block, ref int position, List<AuthorityEdit> edits)
    {
        var incremental = (block[position] & 0x40) != 0; // else without (0000) or never (0001) indexing: 4-bit prefix
        if (!TryReadInteger(block, ref position, incremental ? 6 : 4, out var nameIndex))
        {
            return false;
        }
        int nameLength;
        bool isAuthority;
        if (nameIndex == 0)
        {
            if (!TryReadString(block, ref position, out var name) || !TryDecodedLength(block, name, out nameLength))
            {
                return false;
            }
            isAuthority = nameLength == AuthorityName.Length && DecodedEquals(block, name, AuthorityName);
        }
        else if (!_table.TryGetName(nameIndex, out nameLength, out isAuthority))
        {
            return false;
        }
        var valueOffset = position;
        if (!TryReadString(block, ref position, out var value))
        {
            return false;
        }
        var valueLength = value.Length;
        if (value.Huffman && (incremental || isAuthority) && !HuffmanCode.TryGetDecodedLength(block.Slice(value.Start, value.Length), out valueLength))
        {
            return false;
        }
        if (isAuthority && !TryCheckAuthority(block, value, valueLength, position - valueOffset, valueOffset, edits))
        {
            return false;
        }
        if (incremental)
        {
            _table.Add(nameLength, valueLength, isAuthority);
        }
        return true;
    }

    private static bool TryCheckAuthority(ReadOnlySpan<byte> block, StringLiteral value, int decodedLength, int encodedLength, int offset, List<AuthorityEdit> edits)
    {
        var raw = block.Slice(value.Start, value.Length);
        Span<byte> buffer = stackalloc byte[StackDecodeBytesMax];
        if (value.Huffman && decodedLength > StackDecodeBytesMax)
        {
            buffer = new byte[decodedLength];
        }
        if (value.Huffman && !HuffmanCode.TryDecode(raw, buffer, out _))
        {
            return false;
        }
        ReadOnlySpan<byte> decoded = value.Huffman ? buffer[..decodedLength] : raw;
        if (HostSyntax.IsAcceptable(decoded))
        {
            return true;
        }
        if (edits.Count == EditsPerBlockMax)
        {
            return false;
        }
        var repaired = new byte[decodedLength];
        HostSyntax.Repair(decoded, repaired);
        edits.Add(new AuthorityEdit(offset, encodedLength, repaired));
        return true;
    }

    private static bool TryDecodedLength(ReadOnlySpan<byte> block, StringLiteral literal, out int length)
    {
        length = literal.Length;
        return !literal.Huffman || HuffmanCode.TryGetDecodedLength(block.Slice(literal.Start, literal.Length), out length);
    }

    private static bool DecodedEquals(ReadOnlySpan<byte> block, StringLiteral literal, ReadOnlySpan<byte> expected)
    {
        var raw = block.Slice(literal.Start, literal.Length);
        if (!literal.Huffman)
        {
            return raw.SequenceEqual(expected);
        }
        Span<byte> decoded = stackalloc byte[expected.Length];
        return HuffmanCode.TryDecode(raw, decoded, out var written) && written == expected.Length && decoded.SequenceEqual(expected);
    }

    /// <summary>A string literal (§5.2): H flag, 7-bit-prefix length, data. Start and Length locate the data.</summary>
    private static bool TryReadString(ReadOnlySpan<byte> block, ref int position, out StringLiteral literal)
    {
        literal = default;
        if (position >= block.Length)
        {
            return false;
        }
        var huffman = (block[position] & 0x80) != 0;
        if (!TryReadInteger(block, ref position, 7, out var length) || length > block.Length - position)
        {
            return false;
        }
        literal = new StringLiteral(position, length, huffman);
        position += length;
        return true;
    }

    /// <summary>An integer with an N-bit prefix (§5.1); false if truncated or larger than int.MaxValue.</summary>
    internal static bool TryReadInteger(ReadOnlySpan<byte> block, ref int position, int prefixBits, out int value)
    {
        value = 0;
        if (position >= block.Length)
        {
            return false;
        }
        var prefixMax = (1 << prefixBits) - 1;
        long accumulated = block[position++] & prefixMax;
        if (accumulated < prefixMax)
        {
            value = (int)accumulated;
            return true;
        }
        for (var shift = 0; shift <= 28; shift += 7)
        {
            if (position >= block.Length)
            {
                return false;
            }
            var octet = block[position++];
            accumulated += (long)(octet & 0x7F) << shift;
            if (accumulated > int.MaxValue)
            {
                return false;
            }
            if ((octet & 0x80) == 0)
            {
                value = (int)accumulated;
                return true;
            }
        }
        return false;
    }

    internal static int IntegerLength(int value, int prefixBits)
    {
        var prefixMax = (1 << prefixBits) - 1;
        if (value < prefixMax)
        {
            return 1;
        }
        var length = 2;
        for (var rest = value - prefixMax; rest >= 0x80; rest >>= 7)
        {
            length++;
        }
        return length;
    }

    /// <summary>Writes an integer with an N-bit prefix; <paramref name="flags"/> fills the bits above the prefix.</summary>
    internal static int WriteInteger(int value, int prefixBits, byte flags, Span<byte> destination)
    {
        var prefixMax = (1 << prefixBits) - 1;
        if (value < prefixMax)
        {
            destination[0] = (byte)(flags | value);
            return 1;
        }
        destination[0] = (byte)(flags | prefixMax);
        var written = 1;
        var rest = value - prefixMax;
        while (rest >= 0x80)
        {
            destination[written++] = (byte)((rest & 0x7F) | 0x80);
            rest >>= 7;
        }
        destination[written++] = (byte)rest;
        return written;
    }

    private readonly record struct StringLiteral(int Start, int Length, bool Huffman);
}
