using System.Buffers.Binary;
using System.Text;

namespace Parley.Node;

/// <summary>
/// Appends varints and length-prefixed byte strings to a growable array (the proposal encoding). Given the exact size
/// up front, it allocates once and <see cref="ToArray"/> hands over that array without a copy.
/// </summary>
internal sealed class CommandWriter
{
    private byte[] _buffer;
    private int _written;

    public CommandWriter(int initialCapacityBytes) => _buffer = new byte[Math.Max(16, initialCapacityBytes)];

    public void WriteByte(byte value) => Reserve(1)[0] = value;

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteFixed64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Reserve(8), value);

    public void WriteUnsigned(ulong value)
    {
        var span = Reserve(UnsignedBytes(value));
        var length = 0;
        while (value >= 0x80)
        {
            span[length++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[length] = (byte)value;
    }

    /// <summary>Zig-zag, so small negative numbers (revision -1) stay short.</summary>
    public void WriteSigned(long value) => WriteUnsigned(ZigZag(value));

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteUnsigned((ulong)bytes.Length);
        bytes.CopyTo(Reserve(bytes.Length));
    }

    /// <summary>A string as its UTF-8 bytes with their length, as <see cref="WriteBytes"/> writes them (no array in between).</summary>
    public void WriteUtf8(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        WriteUnsigned((ulong)length);
        Encoding.UTF8.GetBytes(value, Reserve(length));
    }

    /// <summary>The bytes written: the buffer itself when it is exactly full, else a copy of the written part.</summary>
    public byte[] ToArray() => _written == _buffer.Length ? _buffer : _buffer.AsSpan(0, _written).ToArray();

    /// <summary>Bytes <see cref="WriteUnsigned"/> takes for <paramref name="value"/>.</summary>
    public static int UnsignedBytes(ulong value)
    {
        var bytes = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            bytes++;
        }
        return bytes;
    }

    /// <summary>Bytes <see cref="WriteSigned"/> takes for <paramref name="value"/>.</summary>
    public static int SignedBytes(long value) => UnsignedBytes(ZigZag(value));

    /// <summary>Bytes <see cref="WriteBytes"/> takes for <paramref name="length"/> bytes.</summary>
    public static int BytesBytes(int length) => UnsignedBytes((ulong)length) + length;

    private static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    private Span<byte> Reserve(int bytes)
    {
        if (_buffer.Length - _written < bytes)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _written + bytes));
        }
        var span = _buffer.AsSpan(_written, bytes);
        _written += bytes;
        return span;
    }
}
