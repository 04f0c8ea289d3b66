using System.Text;

namespace Parley.Mvcc;

/// <summary>Reader for <see cref="SnapshotWriter"/>'s format; any malformed input throws InvalidDataException.</summary>
internal ref struct SnapshotReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public SnapshotReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly bool AtEnd => _position == _data.Length;

    public ReadOnlySpan<byte> ReadRaw(int length)
    {
        Require(length >= 0 && length <= _data.Length - _position, "truncated");
        ReadOnlySpan<byte> bytes = _data.Slice(_position, length);
        _position += length;
        return bytes;
    }

    public byte ReadByte() => ReadRaw(1)[0];

    public bool ReadBoolean()
    {
        byte value = ReadByte();
        Require(value <= 1, "boolean out of range");
        return value == 1;
    }

    public ulong ReadUnsigned()
    {
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            byte next = ReadByte();
            value |= (ulong)(next & 0x7F) << shift;
            if (next < 0x80)
            {
                return value;
            }
        }
        throw new InvalidDataException("varint too long");
    }

    public long ReadSigned()
    {
        ulong value = ReadUnsigned();
        return (long)(value >> 1) ^ -(long)(value & 1);
    }

    /// <summary>A count of items that each take at least one byte: bounded by what is left.</summary>
    public int ReadCount()
    {
        ulong count = ReadUnsigned();
        Require(count <= (ulong)(_data.Length - _position), "count exceeds the data");
        return (int)count;
    }

    public byte[] ReadBytes()
    {
        int length = ReadCount();
        return ReadRaw(length).ToArray();
    }

    public string ReadString()
    {
        int length = ReadCount();
        return Encoding.UTF8.GetString(ReadRaw(length));
    }

    public static void Require(bool condition, string reason)
    {
        if (!condition)
        {
            throw new InvalidDataException(reason);
        }
    }
}
