using System.Buffers.Binary;

namespace Parley.Mvcc;

/// <summary>
/// A key's head: up to 7 bytes of the key from a node's prefix length on, big-endian and zero-padded, with
/// min(bytes left, 8) in the low byte. Heads compare as plain integers in the keys' ordinal order: different heads
/// order their keys; equal heads mean equal keys, except when both keys go on past the 7 bytes (low byte
/// <see cref="TruncatedMarker"/>), where the rest decides. So a node searches a dense array of integers and reads
/// key bytes only for keys that agree on 7 bytes past the prefix every key in the node shares.
/// </summary>
internal static class KeyHead
{
    /// <summary>Key bytes a head holds.</summary>
    public const int Bytes = 7;

    /// <summary>The low byte of a head whose key has more than <see cref="Bytes"/> bytes past the offset.</summary>
    public const ulong TruncatedMarker = Bytes + 1;

    /// <summary>The head of key from offset on; key must have at least offset bytes.</summary>
    public static ulong Of(ReadOnlySpan<byte> key, int offset)
    {
        ReadOnlySpan<byte> rest = key[offset..];
        if (rest.Length > Bytes)
        {
            return (BinaryPrimitives.ReadUInt64BigEndian(rest) & ~0xFFUL) | TruncatedMarker;
        }
        ulong head = (ulong)rest.Length;
        for (int index = 0; index < rest.Length; index++)
        {
            head |= (ulong)rest[index] << (56 - (8 * index));
        }
        return head;
    }

    /// <summary>Whether keys with this head (equal heads) are ordered only by their bytes past offset + <see cref="Bytes"/>.</summary>
    public static bool IsTruncated(ulong head) => (head & 0xFF) == TruncatedMarker;

    /// <summary>
    /// The prefix length of a node whose keys lie in [low, high) (null = unbounded): every such key, and every key a
    /// search routes there, starts with the fences' common prefix (a key differing from it earlier would sort before
    /// low or at or after high).
    /// </summary>
    public static int FencePrefixLength(byte[]? low, byte[]? high) =>
        low is null || high is null ? 0 : low.AsSpan().CommonPrefixLength(high);
}
