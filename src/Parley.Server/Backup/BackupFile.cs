using System.Buffers.Binary;
using System.Security.Cryptography;
using Parley.Mvcc;
using Parley.Node;
using Parley.Storage;

namespace Parley.Server.Backup;

/// <summary>
/// The snapshot file: what Maintenance.Snapshot streams, what <c>etcdctl snapshot save</c> writes, and what
/// <c>parley snapshot status/restore</c> read. etcdctl 3.4 keeps a stream only if its length is a multiple of 512
/// plus the 32-byte SHA-256 trailer (etcd streams a bbolt file, whose size is whole pages), so the body is padded to
/// 512 bytes. All integers little-endian:
/// <code>
///   0  magic "PRLYSNAP"
///   8  format version u32 (1)            12  header bytes u32 (128)
///  16  cluster id u64                    24  member id u64 (the member that took it)
///  32  raft index u64 (last applied)     40  raft term u64 (of that entry)
///  48  revision i64                      56  compact revision i64
///  64  live keys i64                     72  keyspace bytes u64
///  80  zeros up to 128
/// 128  keyspace: the MVCC snapshot (keys and their retained versions, leases, users and roles, alarms; its own CRC-32C)
///      zeros, so that the body ends on a 512-byte boundary
/// end-4  crc32c u32 of every body byte before it
/// [32 bytes: SHA-256 of the body; the stream's last message, kept by etcdctl]
/// </code>
/// A file without the trailer (length a multiple of 512) is accepted only when the hash check is skipped, as etcd does.
/// </summary>
internal static class BackupFile
{
    public const int HeaderBytes = 128;

    public const int AlignmentBytes = 512;

    public const int TrailerBytes = 32; // SHA-256

    public const uint FormatVersion = 1;

    private const int ChecksumBytes = 4;

    private static ReadOnlySpan<byte> Magic => "PRLYSNAP"u8;

    /// <summary>The body as three pieces (header, the keyspace itself, padding and checksum), so a large keyspace is not copied.</summary>
    public static ReadOnlyMemory<byte>[] Build(KeyspaceSnapshot snapshot, ulong clusterId, ulong memberId)
    {
        var header = new byte[HeaderBytes];
        var span = header.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], HeaderBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(span[16..], clusterId);
        BinaryPrimitives.WriteUInt64LittleEndian(span[24..], memberId);
        BinaryPrimitives.WriteUInt64LittleEndian(span[32..], snapshot.RaftIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(span[40..], snapshot.RaftTerm);
        BinaryPrimitives.WriteInt64LittleEndian(span[48..], snapshot.Revision);
        BinaryPrimitives.WriteInt64LittleEndian(span[56..], snapshot.CompactRevision);
        BinaryPrimitives.WriteInt64LittleEndian(span[64..], snapshot.KeyCount);
        BinaryPrimitives.WriteUInt64LittleEndian(span[72..], (ulong)snapshot.Keyspace.Length);
        var tail = new byte[BodyBytes(snapshot.Keyspace.Length) - HeaderBytes - snapshot.Keyspace.Length];
        var crc = Crc32C.Update(Crc32C.Start, header);
        crc = Crc32C.Update(crc, snapshot.Keyspace.Span);
        crc = Crc32C.Update(crc, tail.AsSpan(0, tail.Length - ChecksumBytes));
        BinaryPrimitives.WriteUInt32LittleEndian(tail.AsSpan(tail.Length - ChecksumBytes), Crc32C.Finish(crc));
        return [header, snapshot.Keyspace, tail];
    }

    /// <summary>The body's length for a keyspace of <paramref name="keyspaceBytes"/>: header, keyspace, checksum, rounded up to 512.</summary>
    public static long BodyBytes(long keyspaceBytes)
    {
        var unpadded = HeaderBytes + keyspaceBytes + ChecksumBytes;
        return (unpadded + AlignmentBytes - 1) / AlignmentBytes * AlignmentBytes;
    }

    /// <summary>
    /// Checks a whole file and decodes its keyspace: the body's own checksum and contents always; the SHA-256 trailer
    /// unless <see cref="BackupCheck.SkipTrailer"/>, and its presence only with <see cref="BackupCheck.RequireTrailer"/>.
    /// A damaged, truncated or foreign file gives false and a sentence saying what is wrong.
    /// </summary>
    public static bool TryRead(ReadOnlyMemory<byte> file, BackupCheck check, out BackupContents? contents, out string problem)
    {
        contents = null;
        var bytes = file.Span;
        if (bytes.Length < HeaderBytes || !bytes[..Magic.Length].SequenceEqual(Magic))
        {
            problem = IsBbolt(bytes)
                ? "it is an etcd (bbolt) snapshot; Parley restores only snapshots taken from Parley"
                : "it is not a Parley snapshot file (no PRLYSNAP header)";
            return false;
        }
        var hasTrailer = bytes.Length % AlignmentBytes == TrailerBytes;
        if (hasTrailer && check != BackupCheck.SkipTrailer)
        {
            var body = bytes[..^TrailerBytes];
            if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes[^TrailerBytes..]))
            {
                problem = "its SHA-256 trailer does not match its contents: the file is corrupt";
                return false;
            }
        }
        var version = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        if (version != FormatVersion)
        {
            problem = $"its format version is {version}; this build reads version {FormatVersion}";
            return false;
        }
        var keyspaceBytes = BinaryPrimitives.ReadUInt64LittleEndian(bytes[72..]);
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]) != HeaderBytes || keyspaceBytes > int.MaxValue)
        {
            problem = "its header is damaged: the file is corrupt";
            return false;
        }
        var bodyBytes = BodyBytes((long)keyspaceBytes);
        if (bytes.Length != bodyBytes && bytes.Length != bodyBytes + TrailerBytes)
        {
            problem = bytes.Length < bodyBytes
                ? $"it is truncated: {bytes.Length} bytes where its header announces {bodyBytes + TrailerBytes}"
                : $"its length ({bytes.Length} bytes) does not match its header ({bodyBytes + TrailerBytes}): the file is corrupt";
            return false;
        }
        if (bytes.Length == bodyBytes && check == BackupCheck.RequireTrailer)
        {
            problem = "it has no SHA-256 trailer (etcdctl snapshot save and Maintenance.Snapshot add one); "
                + "--skip-hash-check restores it after checking only its own checksum";
            return false;
        }
        return TryReadBody(file[..(int)bodyBytes], hasTrailer, out contents, out problem);
    }

    private static bool TryReadBody(ReadOnlyMemory<byte> body, bool hasTrailer, out BackupContents? contents, out string problem)
    {
        contents = null;
        var bytes = body.Span;
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(bytes[^ChecksumBytes..]);
        if (Crc32C.Compute(bytes[..^ChecksumBytes]) != stored)
        {
            problem = "its checksum does not match its contents: the file is corrupt";
            return false;
        }
        var keyspaceBytes = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes[72..]);
        if (bytes[80..HeaderBytes].ContainsAnyExcept((byte)0) || bytes[(HeaderBytes + keyspaceBytes)..^ChecksumBytes].ContainsAnyExcept((byte)0))
        {
            problem = "its reserved bytes or padding are not zero: the file is corrupt";
            return false;
        }
        var keyspace = body.Slice(HeaderBytes, keyspaceBytes);
        var restored = MvccStore.Restore(keyspace.Span);
        if (!restored.IsSuccess)
        {
            problem = $"its keyspace does not decode ({restored.ErrorMessage}): the file is corrupt";
            return false;
        }
        var header = new BackupHeader(
            ClusterId: BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]),
            MemberId: BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]),
            RaftIndex: BinaryPrimitives.ReadUInt64LittleEndian(bytes[32..]),
            RaftTerm: BinaryPrimitives.ReadUInt64LittleEndian(bytes[40..]),
            Revision: BinaryPrimitives.ReadInt64LittleEndian(bytes[48..]),
            CompactRevision: BinaryPrimitives.ReadInt64LittleEndian(bytes[56..]),
            KeyCount: BinaryPrimitives.ReadInt64LittleEndian(bytes[64..]));
        var store = restored.Value!;
        if (store.Revision != header.Revision || store.KeyCount != header.KeyCount || store.CompactRevision != header.CompactRevision)
        {
            problem = $"its header (revision {header.Revision}, {header.KeyCount} keys) disagrees with its keyspace (revision {store.Revision}, {store.KeyCount} keys)";
            return false;
        }
        contents = new BackupContents(header, keyspace, store, body.Length, hasTrailer);
        problem = "";
        return true;
    }

    /// <summary>bbolt's first meta page: page header (16 bytes), then magic 0xED0CDAED.</summary>
    private static bool IsBbolt(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 20 && BinaryPrimitives.ReadUInt32LittleEndian(bytes[16..]) == 0xED0CDAED;
}
