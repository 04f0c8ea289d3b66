namespace Parley.Server.Http2;

/// <summary>
/// HPACK's static Huffman code (RFC 7541 Appendix B). The code is canonical: codes of one length are consecutive
/// and ordered by symbol, and each length's first code follows the last code of the shorter lengths. So the 257
/// code lengths below are the whole table, and decoding needs only, per length, its first code and where its
/// symbols start in the length-then-symbol order.
/// </summary>
internal static class HuffmanCode
{
    public const int EndOfString = 256;
    public const int CodeBitsMax = 30;

    /// <summary>Code length in bits of symbols 0..255, then EOS (RFC 7541 Appendix B, "len in bits").</summary>
    private static readonly byte[] LengthBySymbol =
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ];

    private static readonly uint[] CodeBySymbol = new uint[EndOfString + 1];

    /// <summary>Per code length: its first (smallest) code, how many symbols have it, and where they start in <see cref="SymbolsByCode"/>.</summary>
    private static readonly uint[] FirstCodeByLength = new uint[CodeBitsMax + 1];
    private static readonly int[] CountByLength = new int[CodeBitsMax + 1];
    private static readonly int[] FirstSymbolIndexByLength = new int[CodeBitsMax + 1];
    private static readonly short[] SymbolsByCode = new short[EndOfString + 1];

#pragma warning disable CA1810 // the tables are derived from LengthBySymbol in one pass; field initializers cannot express that
    static HuffmanCode()
#pragma warning restore CA1810
    {
        foreach (var length in LengthBySymbol)
        {
            CountByLength[length]++;
        }
        uint code = 0;
        var index = 0;
        for (var length = 1; length <= CodeBitsMax; length++)
        {
            FirstCodeByLength[length] = code;
            FirstSymbolIndexByLength[length] = index;
            for (var symbol = 0; symbol <= EndOfString; symbol++)
            {
                if (LengthBySymbol[symbol] == length)
                {
                    CodeBySymbol[symbol] = code++;
                    SymbolsByCode[index++] = (short)symbol;
                }
            }
            code <<= 1;
        }
        Parley.Raft.Invariant.Check(index == EndOfString + 1 && CodeBySymbol[EndOfString] == 0x3fffffff,
            "the HPACK Huffman lengths describe a complete canonical code ending in EOS = 30 ones");
    }

    /// <summary>The code of a symbol (0..255, or 256 for EOS), right-aligned, and its length in bits.</summary>
    public static (uint Code, int Bits) Of(int symbol) => (CodeBySymbol[symbol], LengthBySymbol[symbol]);

    /// <summary>The decoded length of a Huffman-coded string; false if it is not a valid encoding (RFC 7541 §5.2).</summary>
    public static bool TryGetDecodedLength(ReadOnlySpan<byte> encoded, out int length) => Walk(encoded, [], countOnly: true, out length);

    /// <summary>Decodes into <paramref name="destination"/>; false if the encoding is invalid or does not fit.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, Span<byte> destination, out int written) => Walk(encoded, destination, countOnly: false, out written);

    private static bool Walk(ReadOnlySpan<byte> encoded, Span<byte> destination, bool countOnly, out int length)
    {
        length = 0;
        uint code = 0;
        var bits = 0;
        foreach (var octet in encoded)
        {
            for (var shift = 7; shift >= 0; shift--)
            {
                code = (code << 1) | (uint)((octet >> shift) & 1);
                bits++;
                var offset = code - FirstCodeByLength[bits];
                if (offset < (uint)CountByLength[bits])
                {
                    var symbol = SymbolsByCode[FirstSymbolIndexByLength[bits] + (int)offset];
                    if (symbol == EndOfString)
                    {
                        return false; // "a Huffman-encoded string literal containing the EOS symbol MUST be treated as a decoding error"
                    }
                    if (!countOnly)
                    {
                        if (length == destination.Length)
                        {
                            return false;
                        }
                        destination[length] = (byte)symbol;
                    }
                    length++;
                    code = 0;
                    bits = 0;
                }
                else if (bits == CodeBitsMax)
                {
                    return false;
                }
            }
        }
        // Padding: fewer than 8 bits, all ones (the most significant bits of EOS).
        return bits < 8 && code == (1u << bits) - 1;
    }
}
