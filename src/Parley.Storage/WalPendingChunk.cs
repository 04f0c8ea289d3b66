using System.Buffers;

namespace Parley.Storage;

/// <summary>Framed records waiting for the next sync, all destined for one segment (one write, one fdatasync).</summary>
internal sealed class WalPendingChunk : IDisposable
{
    public WalPendingChunk(int segmentOffset, ulong segmentSequence, long startOffset, uint group)
    {
        SegmentOffset = segmentOffset;
        SegmentSequence = segmentSequence;
        StartOffset = startOffset;
        Group = group;
        Buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    }

    /// <summary>0 for the active segment, 1 for the one after it, and so on.</summary>
    public int SegmentOffset { get; }

    public ulong SegmentSequence { get; }

    /// <summary>File offset where <see cref="Buffer"/>[0] goes.</summary>
    public long StartOffset { get; }

    public uint Group { get; }

    public byte[] Buffer { get; private set; }

    public int Length { get; private set; }

    public ulong EntryIndexMax { get; set; }

    public bool Sealed { get; set; }

    public long EndOffset => StartOffset + Length;

    /// <summary>Reserves a frame at the end and returns it (header and padding included).</summary>
    public Span<byte> Reserve(int frameBytes)
    {
        if (Length + frameBytes > Buffer.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(Buffer.Length * 2, Length + frameBytes));
            Buffer.AsSpan(0, Length).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(Buffer);
            Buffer = grown;
        }
        var frame = Buffer.AsSpan(Length, frameBytes);
        Length += frameBytes;
        return frame;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(Buffer);
        Buffer = [];
    }
}
