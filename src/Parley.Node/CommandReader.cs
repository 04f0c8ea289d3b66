using System.Buffers.Binary;

namespace Parley.Node;

/// <summary>Reads what <see cref="CommandWriter"/> wrote; any malformed input throws <see cref="FormatException"/>.</summary>
internal ref struct CommandReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public CommandReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly bool IsAtEnd => _position == _data.Length;

    public byte ReadByte()
    {
        Require(_position < _data.Length);
        return _data[_position++];
    }

    public bool ReadBoolean() => ReadByte() != 0;

    public ulong ReadFixed64()
    {
        Require(_position + 8 <= _data.Length);
        var value = BinaryPrimitives.ReadUInt64LittleEndian(_data[_position..]);
        _position += 8;
        return value;
    }

    public ulong ReadUnsigned()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = ReadByte();
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
        throw new FormatException("varint too long");
    }

    public long ReadSigned()
    {
        var raw = ReadUnsigned();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    public int ReadCount()
    {
        var count = ReadUnsigned();
        Require(count <= (ulong)(_data.Length - _position));
        return (int)count;
    }

    public byte[] ReadBytes()
    {
        var length = ReadCount();
        var bytes = _data.Slice(_position, length).ToArray();
        _position += length;
        return bytes;
    }

    /// <summary>
    /// As <see cref="ReadBytes"/>, for bytes the keyspace keeps until a compaction (a put's value): allocated where the
    /// runtime keeps objects it never moves (<see cref="Parley.Mvcc.KeyBytes.LongLived"/>).
    /// </summary>
    public byte[] ReadLongLivedBytes()
    {
        var length = ReadCount();
        var bytes = Parley.Mvcc.KeyBytes.LongLived(_data.Slice(_position, length));
        _position += length;
        return bytes;
    }

    /// <summary>What <see cref="CommandWriter.WriteUtf8"/> wrote (invalid UTF-8 decodes as U+FFFD, as Encoding.UTF8 does).</summary>
    public string ReadUtf8()
    {
        var length = ReadCount();
        var value = System.Text.Encoding.UTF8.GetString(_data.Slice(_position, length));
        _position += length;
        return value;
    }

    private static void Require(bool condition)
    {
        if (!condition)
        {
            throw new FormatException("proposal is truncated or malformed");
        }
    }
}
