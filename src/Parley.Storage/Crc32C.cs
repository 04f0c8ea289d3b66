using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Parley.Storage;

/// <summary>CRC-32C (Castagnoli), hardware-accelerated through <see cref="BitOperations.Crc32C(uint, ulong)"/>.</summary>
public static class Crc32C
{
    /// <summary>The CRC of <paramref name="data"/> on its own.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Update(Start, data));

    /// <summary>The state a running CRC starts from.</summary>
    public const uint Start = 0xFFFF_FFFFu;

    /// <summary>The CRC of everything a running state has seen.</summary>
    public static uint Finish(uint state) => state ^ 0xFFFF_FFFFu;

    /// <summary>Continues a running CRC state (begin with <see cref="Start"/>, end with <see cref="Finish"/>).</summary>
    /// <remarks>Compiled optimized at once: a restart checksums a whole snapshot file before anything else warms it up.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        if (data.Length >= 4)
        {
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt32LittleEndian(data));
            data = data[4..];
        }
        foreach (var b in data)
        {
            state = BitOperations.Crc32C(state, b);
        }
        return state;
    }

    public static uint Update(uint state, ulong value) => BitOperations.Crc32C(state, value);
}
