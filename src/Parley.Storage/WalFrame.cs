using System.Buffers.Binary;

namespace Parley.Storage;

/// <summary>
/// The on-disk framing of one WAL record, 8-byte aligned:
/// <c>[payload length u32][crc32c u32][type u8][zero u8 x3][sync group u32][payload][zero padding to 8]</c>.
/// The CRC covers the segment's sequence number and the record's file offset (so a record copied or read at the
/// wrong place fails), the header fields other than the CRC, and the payload. All integers little-endian.
/// </summary>
internal static class WalFrame
{
    public const int HeaderBytes = 16;
    public const int AlignmentBytes = 8;

    public static int FrameBytes(int payloadBytes) => Align(HeaderBytes + payloadBytes);

    public static int Align(int bytes) => (bytes + AlignmentBytes - 1) & ~(AlignmentBytes - 1);

    /// <summary>Fills the header of a frame whose payload is already in place after it.</summary>
    public static void Seal(Span<byte> frame, WalRecordType type, uint group, ulong segmentSequence, long fileOffset, int payloadBytes)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payloadBytes);
        frame[8] = (byte)type;
        frame[9] = 0;
        frame[10] = 0;
        frame[11] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(frame[12..], group);
        frame.Slice(HeaderBytes + payloadBytes, FrameBytes(payloadBytes) - HeaderBytes - payloadBytes).Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], Checksum(frame, segmentSequence, fileOffset, payloadBytes));
    }

    public static uint Checksum(ReadOnlySpan<byte> frame, ulong segmentSequence, long fileOffset, int payloadBytes)
    {
        var state = Crc32C.Update(Crc32C.Start, segmentSequence);
        state = Crc32C.Update(state, (ulong)fileOffset);
        state = Crc32C.Update(state, frame[..4]);
        state = Crc32C.Update(state, frame.Slice(8, HeaderBytes - 8 + payloadBytes));
        return Crc32C.Finish(state);
    }

    public static bool IsKnownType(byte type) => type is >= (byte)WalRecordType.SegmentHeader and <= (byte)WalRecordType.SyncMark;
}
