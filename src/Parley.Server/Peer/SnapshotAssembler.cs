using System.Buffers;
using System.Buffers.Binary;

namespace Parley.Server.Peer;

/// <summary>
/// The receiving half of chunked snapshots: a Raft snapshot message travels as <see cref="PeerFrameType.SnapshotChunk"/>
/// frames (<c>[total u64][offset u64][bytes]</c>, in order) followed by its <see cref="PeerFrameType.RaftMessage"/>
/// frame, whose snapshot data is the assembled bytes. One per connection; out-of-order or oversized chunks close it.
/// </summary>
internal sealed class SnapshotAssembler
{
    public const int ChunkHeaderBytes = 16;

    private byte[]? _data;
    private long _filled;

    /// <summary>Adds one chunk frame's payload.</summary>
    public void Accept(ReadOnlySequence<byte> payload)
    {
        if (payload.Length < ChunkHeaderBytes)
        {
            throw new FormatException("snapshot chunk without its header");
        }
        Span<byte> header = stackalloc byte[ChunkHeaderBytes];
        payload.Slice(0, ChunkHeaderBytes).CopyTo(header);
        var total = BinaryPrimitives.ReadInt64LittleEndian(header);
        var offset = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        var bytes = payload.Slice(ChunkHeaderBytes);
        if (offset == 0)
        {
            if (total < 0 || total > Array.MaxLength)
            {
                throw new FormatException($"snapshot of {total} bytes is larger than a member can hold");
            }
            _data = new byte[total];
            _filled = 0;
        }
        if (_data is null || total != _data.Length || offset != _filled || bytes.Length > total - offset)
        {
            throw new FormatException($"snapshot chunk at offset {offset} of {total} out of order");
        }
        bytes.CopyTo(_data.AsSpan((int)offset));
        _filled += bytes.Length;
    }

    /// <summary>The assembled snapshot data for the message that follows the chunks; throws unless every chunk came.</summary>
    public byte[] Take()
    {
        if (_data is null || _filled != _data.Length)
        {
            throw new FormatException("snapshot message before all of its chunks");
        }
        var data = _data;
        _data = null;
        _filled = 0;
        return data;
    }
}
