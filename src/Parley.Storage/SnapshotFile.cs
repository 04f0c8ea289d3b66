using System.Buffers.Binary;
using Parley.Raft;

namespace Parley.Storage;

/// <summary>
/// Codec of one snapshot file: magic u64, version u32, zero u32, cluster u64, member u64, index u64, term u64,
/// voter count u32, learner count u32, voters u64[], learners u64[], data length u64, data, crc32c u32 of all before.
/// </summary>
internal static class SnapshotFile
{
    private const int FixedBytes = 56;

    public static byte[] Encode(Snapshot snapshot, StorageIdentity identity)
    {
        var header = EncodeHeader(snapshot.Metadata, snapshot.Data.Length, identity);
        var content = new byte[header.Length + snapshot.Data.Length + 4];
        header.CopyTo(content, 0);
        snapshot.Data.Span.CopyTo(content.AsSpan(header.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(content.AsSpan(content.Length - 4), Crc32C.Compute(content.AsSpan(0, content.Length - 4)));
        return content;
    }

    /// <summary>The whole file's length for a snapshot with this metadata and data length.</summary>
    public static long EncodedLength(SnapshotMetadata metadata, long dataLength) =>
        FixedBytes + 8L * (metadata.Config.Voters.Count + metadata.Config.Learners.Count) + 8 + dataLength + 4;

    /// <summary>Everything before the data: magic, version, identity, index, term, membership, data length.</summary>
    public static byte[] EncodeHeader(SnapshotMetadata metadata, long dataLength, StorageIdentity identity)
    {
        var config = metadata.Config;
        var header = new byte[FixedBytes + 8 * (config.Voters.Count + config.Learners.Count) + 8];
        var span = header.AsSpan();
        BinaryPrimitives.WriteUInt64LittleEndian(span, StorageFormat.SnapshotMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], StorageFormat.Version);
        BinaryPrimitives.WriteUInt64LittleEndian(span[16..], identity.ClusterId);
        BinaryPrimitives.WriteUInt64LittleEndian(span[24..], identity.MemberId);
        BinaryPrimitives.WriteUInt64LittleEndian(span[32..], metadata.Index);
        BinaryPrimitives.WriteUInt64LittleEndian(span[40..], metadata.Term);
        BinaryPrimitives.WriteUInt32LittleEndian(span[48..], (uint)config.Voters.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(span[52..], (uint)config.Learners.Count);
        var offset = FixedBytes;
        foreach (var id in config.Voters)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span[offset..], id);
            offset += 8;
        }
        foreach (var id in config.Learners)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span[offset..], id);
            offset += 8;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(span[offset..], (ulong)dataLength);
        return header;
    }

    /// <summary>Decodes and verifies; on failure returns false with what is wrong.</summary>
    public static bool TryDecode(byte[] content, StorageIdentity? identity, out Snapshot snapshot, out string? problem, bool verifyChecksum = true) =>
        TryDecode(content, identity, out snapshot, out problem, out _, verifyChecksum);

    /// <summary>As above; the snapshot's data is a slice of <paramref name="content"/> (no copy), starting at <paramref name="dataOffset"/>.</summary>
    public static bool TryDecode(byte[] content, StorageIdentity? identity, out Snapshot snapshot, out string? problem, out int dataOffset, bool verifyChecksum = true)
    {
        snapshot = Snapshot.Empty;
        dataOffset = 0;
        ReadOnlySpan<byte> view = content;
        if (view.Length < FixedBytes + 12 || BinaryPrimitives.ReadUInt64LittleEndian(content) != StorageFormat.SnapshotMagic)
        {
            problem = "not a Parley snapshot file (bad magic or too short)";
            return false;
        }
        var storedChecksum = BinaryPrimitives.ReadUInt32LittleEndian(view[^4..]);
        if (verifyChecksum && storedChecksum != Crc32C.Compute(view[..^4]))
        {
            problem = "checksum mismatch";
            return false;
        }
        var version = BinaryPrimitives.ReadUInt32LittleEndian(view[8..]);
        if (version != StorageFormat.Version)
        {
            problem = $"storage format version {version}, this build reads {StorageFormat.Version}";
            return false;
        }
        var owner = new StorageIdentity(BinaryPrimitives.ReadUInt64LittleEndian(view[16..]), BinaryPrimitives.ReadUInt64LittleEndian(view[24..]));
        if (identity is { } expected && owner != expected)
        {
            problem = $"belongs to {owner}, not {expected}";
            return false;
        }
        var voterCount = BinaryPrimitives.ReadUInt32LittleEndian(view[48..]);
        var learnerCount = BinaryPrimitives.ReadUInt32LittleEndian(view[52..]);
        var offset = FixedBytes;
        if ((ulong)offset + 8UL * (voterCount + learnerCount) + 12 > (ulong)view.Length)
        {
            problem = "membership lists run past the end of the file";
            return false;
        }
        var voters = ReadIds(view, ref offset, voterCount);
        var learners = ReadIds(view, ref offset, learnerCount);
        var dataLength = BinaryPrimitives.ReadUInt64LittleEndian(view[offset..]);
        offset += 8;
        if (dataLength != (ulong)(view.Length - offset - 4))
        {
            problem = "data length does not match the file length";
            return false;
        }
        var metadata = new SnapshotMetadata(
            BinaryPrimitives.ReadUInt64LittleEndian(view[32..]),
            BinaryPrimitives.ReadUInt64LittleEndian(view[40..]),
            new ConfigState(voters, learners));
        snapshot = new Snapshot(metadata, content.AsMemory(offset, (int)dataLength));
        dataOffset = offset;
        problem = null;
        return true;
    }

    private static List<ulong> ReadIds(ReadOnlySpan<byte> content, ref int offset, uint count)
    {
        var ids = new List<ulong>((int)count);
        for (var i = 0; i < count; i++)
        {
            ids.Add(BinaryPrimitives.ReadUInt64LittleEndian(content[offset..]));
            offset += 8;
        }
        return ids;
    }
}
