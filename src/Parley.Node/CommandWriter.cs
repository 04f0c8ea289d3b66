using System.Buffers;
using System.Buffers.Binary;

namespace Parley.Node;

/// <summary>Appends varints and length-prefixed byte strings to a growable buffer (the proposal encoding).</summary>
internal sealed class CommandWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    public CommandWriter(int initialCapacityBytes) => _buffer = new ArrayBufferWriter<byte>(Math.Max(16, initialCapacityBytes));

    public void WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteFixed64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    public void WriteUnsigned(ulong value)
    {
        var span = _buffer.GetSpan(10);
        var length = 0;
        while (value >= 0x80)
        {
            span[length++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[length++] = (byte)value;
        _buffer.Advance(length);
    }

    /// <summary>Zig-zag, so small negative numbers (revision -1) stay short.</summary>
    public void WriteSigned(long value) => WriteUnsigned((ulong)((value << 1) ^ (value >> 63)));

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteUnsigned((ulong)bytes.Length);
        bytes.CopyTo(_buffer.GetSpan(bytes.Length));
        _buffer.Advance(bytes.Length);
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
}
