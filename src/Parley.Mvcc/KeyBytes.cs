using System.Text;

namespace Parley.Mvcc;

/// <summary>Ordinal byte-string helpers: etcd orders keys by plain byte comparison (Go's bytes.Compare).</summary>
public static class KeyBytes
{
    /// <summary>Ordinal comparison; a proper prefix sorts first.</summary>
    public static int Compare(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right) => left.SequenceCompareTo(right);

    /// <summary>A range end of the single byte 0x00 means "every key ≥ key" (etcd's mkGteRange).</summary>
    public static bool IsFromKey(ReadOnlySpan<byte> rangeEnd) => rangeEnd.Length == 1 && rangeEnd[0] == 0;

    /// <summary>
    /// The range end that selects every key starting with <paramref name="prefix"/>: the prefix with
    /// its last byte below 0xFF incremented and later bytes dropped; "\0" when every byte is 0xFF.
    /// </summary>
    public static byte[] PrefixEnd(ReadOnlySpan<byte> prefix)
    {
        for (int index = prefix.Length - 1; index >= 0; index--)
        {
            if (prefix[index] < 0xFF)
            {
                byte[] end = prefix[..(index + 1)].ToArray();
                end[index]++;
                return end;
            }
        }
        return [0];
    }

    /// <summary>
    /// A copy for the keyspace to keep (a put's value), allocated on the pinned-object heap: the runtime never moves
    /// those objects and collects them only with its oldest generation. A value lives until a compaction, far longer
    /// than a young collection; on the ordinary heap each one was copied twice on its way to the old generation, and
    /// under write load that promotion was most of what young collections cost. Freed space there is reused by later
    /// allocations as in a malloc heap. Each allocation there takes the runtime's slow path, so a bulk copy (restoring a
    /// snapshot) allocates ordinary arrays instead.
    /// </summary>
    public static byte[] LongLived(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return [];
        }
        var copy = GC.AllocateUninitializedArray<byte>(bytes.Length, pinned: true);
        bytes.CopyTo(copy);
        return copy;
    }

    /// <summary>UTF-8 bytes of a string, for tests and tools.</summary>
    public static byte[] FromString(string text) => Encoding.UTF8.GetBytes(text);

    internal static string Display(byte[] bytes)
    {
        foreach (byte value in bytes)
        {
            if (value < 0x20 || value > 0x7E)
            {
                return "0x" + Convert.ToHexString(bytes);
            }
        }
        return Encoding.ASCII.GetString(bytes);
    }
}
