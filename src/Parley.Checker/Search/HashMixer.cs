namespace Parley.Checker.Search;

/// <summary>
/// 64-bit hash finaliser (MurmurHash3 fmix64). XOR-combining raw hashes lets structured values cancel
/// each other out; spreading the bits first keeps the combined hashes useful.
/// </summary>
public static class HashMixer
{
    /// <summary>Spreads the bits of <paramref name="value"/>.</summary>
    public static ulong Mix(ulong value)
    {
        value ^= value >> 33;
        value *= 0xff51afd7ed558ccdUL;
        value ^= value >> 33;
        value *= 0xc4ceb9fe1a85ec53UL;
        value ^= value >> 33;
        return value;
    }

    /// <summary>Ordinal, process-stable hash of a string (FNV-1a then mixed); <see cref="string.GetHashCode()"/> is only 32 bits.</summary>
    public static ulong HashString(string? value)
    {
        if (value is null)
        {
            return 0x9e3779b97f4a7c15UL;
        }

        var hash = 0xcbf29ce484222325UL;
        foreach (var character in value)
        {
            hash ^= character;
            hash *= 0x100000001b3UL;
        }

        return Mix(hash);
    }

    /// <summary>Combines two hashes, order-sensitively.</summary>
    public static ulong Combine(ulong first, ulong second) => Mix(first * 31 + second);
}
