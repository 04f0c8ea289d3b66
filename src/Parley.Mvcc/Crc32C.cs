using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Parley.Mvcc;

/// <summary>CRC-32C (Castagnoli) through the hardware instruction when present; same value either way.</summary>
internal static class Crc32C
{
    // Compiled optimized at once: a restart checksums a whole snapshot (hundreds of MiB) in one call, which in the quick
    // first tier ran until on-stack replacement swapped the loop out.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (byte value in data)
        {
            crc = BitOperations.Crc32C(crc, value);
        }
        return crc;
    }
}
