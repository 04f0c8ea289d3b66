using System.Globalization;
using System.Text;
using Google.Protobuf;

namespace Parley.Bench;

/// <summary>
/// The bench's keys: fixed-size ASCII, a filler character followed by the zero-padded index, so that the keys
/// 100·g … 100·g+99 share one prefix (the key without its last two digits) and nothing else does. Range workloads
/// use those prefixes exactly as <c>etcdctl get --prefix</c> would (range_end = prefix with its last byte + 1).
/// </summary>
public sealed class KeySpace
{
    public const int DigitsMin = 4;

    private readonly string _filler;

    public KeySpace(long keyCount, int keySizeBytes, char filler = 'k')
    {
        if (keyCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(keyCount), "the key count must be at least 1");
        }
        KeyCount = keyCount;
        Digits = DigitsFor(keyCount);
        if (keySizeBytes < Digits + 1)
        {
            throw new ArgumentOutOfRangeException(nameof(keySizeBytes), $"a key of {keySizeBytes} bytes cannot hold {keyCount} distinct keys (needs at least {Digits + 1})");
        }
        KeySizeBytes = keySizeBytes;
        _filler = new string(filler, keySizeBytes - Digits);
    }

    public long KeyCount { get; }

    public int KeySizeBytes { get; }

    /// <summary>Digits of the index part of every key.</summary>
    public int Digits { get; }

    /// <summary>The smallest key size that can hold <paramref name="keyCount"/> keys (one filler byte + digits).</summary>
    public static int KeySizeMin(long keyCount) => DigitsFor(keyCount) + 1;

    public static int DigitsFor(long keyCount) =>
        Math.Max(DigitsMin, (keyCount - 1).ToString(CultureInfo.InvariantCulture).Length);

    public string KeyText(long index)
    {
        if (index < 0 || index >= KeyCount)
        {
            throw new ArgumentOutOfRangeException(nameof(index));
        }
        return _filler + index.ToString("D" + Digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    public ByteString Key(long index) => ByteString.CopyFromUtf8(KeyText(index));

    /// <summary>Groups of <paramref name="keysPerGroup"/> (a power of ten) keys that lie wholly inside the key count.</summary>
    public long GroupCount(int keysPerGroup) => KeyCount / keysPerGroup;

    /// <summary>The [key, range_end) of group <paramref name="group"/>: the prefix shared by exactly its keys.</summary>
    public (ByteString Key, ByteString RangeEnd) PrefixRange(long group, int keysPerGroup)
    {
        var dropped = DroppedDigits(keysPerGroup);
        if (dropped >= Digits)
        {
            throw new ArgumentOutOfRangeException(nameof(keysPerGroup), $"ranges of {keysPerGroup} keys need more than {Digits} digits");
        }
        if (group < 0 || group >= GroupCount(keysPerGroup))
        {
            throw new ArgumentOutOfRangeException(nameof(group));
        }
        var first = KeyText(group * keysPerGroup);
        var prefix = Encoding.ASCII.GetBytes(first[..^dropped]);
        var end = (byte[])prefix.Clone();
        end[^1]++; // a digit: never 0xff, so no carry
        return (ByteString.CopyFrom(prefix), ByteString.CopyFrom(end));
    }

    /// <summary>The [key, range_end) of every key of this space: the filler they all start with.</summary>
    public (ByteString Key, ByteString RangeEnd) WholeRange()
    {
        var prefix = Encoding.ASCII.GetBytes(_filler);
        var end = (byte[])prefix.Clone();
        end[^1]++; // an ASCII letter: no carry
        return (ByteString.CopyFrom(prefix), ByteString.CopyFrom(end));
    }

    private static int DroppedDigits(int keysPerGroup)
    {
        var dropped = 0;
        for (var size = keysPerGroup; size > 1; size /= 10)
        {
            if (size % 10 != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(keysPerGroup), "ranges cover a power of ten keys");
            }
            dropped++;
        }
        return dropped;
    }
}
