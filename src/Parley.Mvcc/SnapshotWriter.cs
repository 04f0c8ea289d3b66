using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Parley.Mvcc;

/// <summary>
/// Little-endian, varint-based writer for snapshots that keeps a running CRC-32C of what it wrote,
/// so the checksum costs no second pass over a large snapshot.
/// </summary>
/// <remarks>
/// Writes go into a window taken from the output and are committed to it (checksummed and advanced) a window at a
/// time, not per field: a snapshot is millions of small fields, and a call through <see cref="IBufferWriter{T}"/> plus
/// a checksum step for each one cost more than the encoding. Call <see cref="Flush"/> before reading what the output
/// holds (<see cref="WriteChecksum"/> flushes by itself). <see cref="SizeOfUnsigned"/> and its kin say what a field
/// will take without writing it (a snapshot's length is announced before its bytes).
/// </remarks>
internal sealed class SnapshotWriter
{
    private const int WindowBytesMin = 4096;

    /// <summary>What <see cref="WriteChecksum"/> adds.</summary>
    public const int ChecksumBytes = 4;

    private readonly IBufferWriter<byte> _output;
    private Memory<byte> _window;
    private int _used;
    private uint _checksum;

    public SnapshotWriter(IBufferWriter<byte> output)
    {
        _output = output;
    }

    /// <summary>Bytes <see cref="WriteUnsigned"/> writes for <paramref name="value"/>.</summary>
    public static int SizeOfUnsigned(ulong value) => (BitOperations.Log2(value | 1) / 7) + 1;

    /// <summary>Bytes <see cref="WriteSigned"/> writes for <paramref name="value"/>.</summary>
    public static int SizeOfSigned(long value) => SizeOfUnsigned(ZigZag(value));

    /// <summary>Bytes <see cref="WriteBytes"/> writes for <paramref name="length"/> bytes.</summary>
    public static long SizeOfBytes(int length) => SizeOfUnsigned((ulong)length) + (long)length;

    /// <summary>Bytes written so far, committed or not.</summary>
    public long Length { get; private set; }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        // In pieces: an output may hand out windows smaller than a large value (a file writer's buffer).
        while (!bytes.IsEmpty)
        {
            Span<byte> target = Reserve(Math.Min(bytes.Length, WindowBytesMin));
            int take = Math.Min(target.Length, bytes.Length);
            bytes[..take].CopyTo(target);
            Wrote(take);
            bytes = bytes[take..];
        }
    }

    public void WriteByte(byte value)
    {
        Reserve(1)[0] = value;
        Wrote(1);
    }

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteUnsigned(ulong value)
    {
        Span<byte> target = Reserve(10);
        int length = 0;
        while (value >= 0x80)
        {
            target[length++] = (byte)(value | 0x80);
            value >>= 7;
        }
        target[length++] = (byte)value;
        Wrote(length);
    }

    public void WriteSigned(long value) => WriteUnsigned(ZigZag(value));

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteUnsigned((ulong)bytes.Length);
        WriteRaw(bytes);
    }

    public void WriteString(string text) => WriteBytes(Encoding.UTF8.GetBytes(text));

    /// <summary>Writes the checksum of everything before it (not itself part of the checksum) and flushes.</summary>
    public void WriteChecksum()
    {
        Flush();
        BinaryPrimitives.WriteUInt32LittleEndian(Reserve(ChecksumBytes), _checksum);
        Wrote(ChecksumBytes);
        Flush();
    }

    /// <summary>Commits what the window holds to the output.</summary>
    public void Flush()
    {
        if (_used > 0)
        {
            _checksum = Crc32C.Update(_checksum, _window.Span[.._used]);
            _output.Advance(_used);
        }
        _window = default;
        _used = 0;
    }

    private Span<byte> Reserve(int bytes)
    {
        if (_window.Length - _used < bytes)
        {
            Flush();
            _window = _output.GetMemory(Math.Max(bytes, WindowBytesMin));
        }
        return _window.Span[_used..];
    }

    private void Wrote(int bytes)
    {
        _used += bytes;
        Length += bytes;
    }
}
