using System.Buffers.Binary;
using Parley.Raft;

namespace Parley.Storage;

/// <summary>Payload layouts of the WAL's data records.</summary>
internal static class WalPayload
{
    /// <summary>term u64, index u64, type u8, then the entry's data.</summary>
    public const int EntryFixedBytes = 17;
    public const int HardStateBytes = 24;
    public const int SnapshotMarkerBytes = 16;

    public static void WriteEntry(Span<byte> payload, in Entry entry)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(payload, entry.Term);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], entry.Index);
        payload[16] = (byte)entry.Type;
        entry.Data.Span.CopyTo(payload[EntryFixedBytes..]);
    }

    public static Entry ReadEntry(ReadOnlySpan<byte> payload) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(payload),
        BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
        (EntryType)payload[16],
        payload[EntryFixedBytes..].ToArray());

    public static void WriteHardState(Span<byte> payload, HardState hardState)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(payload, hardState.Term);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], hardState.Vote);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[16..], hardState.Commit);
    }

    public static HardState ReadHardState(ReadOnlySpan<byte> payload) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(payload),
        BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]));

    public static void WriteSnapshotMarker(Span<byte> payload, ulong index, ulong term)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(payload, index);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], term);
    }
}
