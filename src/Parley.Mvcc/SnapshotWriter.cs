using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Parley.Mvcc;

/// <summary>
/// Little-endian, varint-based writer for snapshots that keeps a running CRC-32C of what it wrote,
/// so the checksum costs no second pass over a large snapshot.
/// </summary>
internal sealed class SnapshotWriter
{
    private readonly IBufferWriter<byte> _output;
    private readonly bool _computeChecksum;

    /// <param name="computeChecksum">False when only the length is wanted (the checksum written is then zero).</param>
    public SnapshotWriter(IBufferWriter<byte> output, bool computeChecksum = true)
    {
        _output = output;
        _computeChecksum = computeChecksum;
    }

    public uint Checksum { get; private set; }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        // In pieces: an output may hand out spans smaller than a large value (a file writer's buffer).
        while (!bytes.IsEmpty)
        {
            Span<byte> target = _output.GetSpan(Math.Min(bytes.Length, 4096));
            int take = Math.Min(target.Length, bytes.Length);
            bytes[..take].CopyTo(target);
            Commit(target[..take]);
            bytes = bytes[take..];
        }
    }

    public void WriteByte(byte value)
    {
        Span<byte> target = _output.GetSpan(1);
        target[0] = value;
        Commit(target[..1]);
    }

    public void WriteBoolean(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteUnsigned(ulong value)
    {
        Span<byte> target = _output.GetSpan(10);
        int length = 0;
        while (value >= 0x80)
        {
            target[length++] = (byte)(value | 0x80);
            value >>= 7;
        }
        target[length++] = (byte)value;
        Commit(target[..length]);
    }

    /// <summary>Zigzag, so that small negative numbers (compact revision -1) stay one byte.</summary>
    public void WriteSigned(long value) => WriteUnsigned((ulong)((value << 1) ^ (value >> 63)));

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteUnsigned((ulong)bytes.Length);
        WriteRaw(bytes);
    }

    public void WriteString(string text) => WriteBytes(Encoding.UTF8.GetBytes(text));

    /// <summary>The checksum itself, not folded into the running CRC.</summary>
    public void WriteChecksum()
    {
        Span<byte> target = _output.GetSpan(4);
        BinaryPrimitives.WriteUInt32LittleEndian(target, Checksum);
        _output.Advance(4);
    }

    private void Commit(ReadOnlySpan<byte> written)
    {
        if (_computeChecksum)
        {
            Checksum = Crc32C.Update(Checksum, written);
        }
        _output.Advance(written.Length);
    }
}
