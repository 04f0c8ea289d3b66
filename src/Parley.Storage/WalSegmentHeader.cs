using System.Buffers.Binary;

namespace Parley.Storage;

/// <summary>Payload of the first record of every segment.</summary>
internal readonly record struct WalSegmentHeader(uint FormatVersion, StorageIdentity Identity, ulong Sequence)
{
    public const int PayloadBytes = 40;

    public void Write(Span<byte> payload)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(payload, StorageFormat.SegmentMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(payload[8..], FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(payload[12..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[16..], Identity.ClusterId);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[24..], Identity.MemberId);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[32..], Sequence);
    }

    public static bool TryRead(ReadOnlySpan<byte> payload, out WalSegmentHeader header)
    {
        header = default;
        if (payload.Length != PayloadBytes || BinaryPrimitives.ReadUInt64LittleEndian(payload) != StorageFormat.SegmentMagic)
        {
            return false;
        }
        header = new WalSegmentHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]),
            new StorageIdentity(BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]), BinaryPrimitives.ReadUInt64LittleEndian(payload[24..])),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[32..]));
        return true;
    }
}
