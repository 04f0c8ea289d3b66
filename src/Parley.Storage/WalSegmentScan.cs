using System.Buffers.Binary;
using Parley.Raft;

namespace Parley.Storage;

/// <summary>Where a segment's records stop making sense, and whether it looks like a torn write.</summary>
internal sealed record WalDamage(long Offset, bool AfterEndOfData, bool LooksTorn, string Problem);

/// <summary>
/// Everything one segment file holds, decoded without judgement: its records up to the first damage, and the
/// damage if any. Whether a damage is a torn tail or corruption depends on the segments after it (see <see cref="WalScan"/>).
/// </summary>
internal sealed class WalSegmentScan
{
    private readonly bool _verifyChecksums;

    private WalSegmentScan(string path, ulong sequence, byte[] data, bool verifyChecksums)
    {
        Path = path;
        Sequence = sequence;
        Data = data;
        _verifyChecksums = verifyChecksums;
    }

    public string Path { get; }

    public ulong Sequence { get; }

    /// <summary>The whole file as read (segments are preallocated: the unwritten rest is zeros).</summary>
    public byte[] Data { get; }

    public WalSegmentHeader Header { get; private set; }

    /// <summary>Why the header is unusable, or null. A bad header is never a torn write: headers are synced before use.</summary>
    public string? HeaderProblem { get; private set; }

    public bool HeaderRefused { get; private set; }

    public int HeaderFrameBytes { get; private set; }

    public List<WalRecord> Records { get; } = [];

    /// <summary>Offset just past the last valid record (or the header).</summary>
    public long DataEnd { get; private set; }

    public WalDamage? Damage { get; private set; }

    public static WalSegmentScan Read(IFileSystem fileSystem, string path, ulong sequence, StorageIdentity? expectedIdentity, bool verifyChecksums = true)
    {
        byte[] data;
        using (var file = fileSystem.OpenFile(path, writable: false))
        {
            data = new byte[file.Length];
            var read = file.Read(0, data);
            Invariant.Check(read == data.Length, $"short read of {path}: {read} of {data.Length} bytes");
        }
        var scan = new WalSegmentScan(path, sequence, data, verifyChecksums);
        scan.Decode(expectedIdentity);
        return scan;
    }

    private void Decode(StorageIdentity? expectedIdentity)
    {
        if (!TryDecodeFrame(Data, 0, Sequence, out var headerRecord, out var headerPayload, out var problem, _verifyChecksums)
            || headerRecord.Type != WalRecordType.SegmentHeader
            || !WalSegmentHeader.TryRead(headerPayload, out var header))
        {
            HeaderProblem = $"segment header is unreadable ({problem ?? "not a segment header"})";
            return;
        }
        Header = header;
        HeaderFrameBytes = headerRecord.FrameBytes;
        if (header.FormatVersion != StorageFormat.Version)
        {
            HeaderRefused = true;
            HeaderProblem = $"segment has storage format version {header.FormatVersion}; this build reads version {StorageFormat.Version}";
            return;
        }
        if (header.Sequence != Sequence)
        {
            HeaderProblem = $"segment header says sequence {header.Sequence:x16} but the file name says {Sequence:x16} (renamed or copied file)";
            return;
        }
        if (expectedIdentity is { } identity && header.Identity != identity)
        {
            HeaderRefused = true;
            HeaderProblem = $"segment belongs to {header.Identity}, not {identity}";
            return;
        }
        DecodeRecords(headerRecord.FrameBytes);
    }

    private void DecodeRecords(long offset)
    {
        while (true)
        {
            if (offset + WalFrame.HeaderBytes > Data.Length || IsZero(Data.AsSpan((int)offset, WalFrame.HeaderBytes)))
            {
                DataEnd = offset;
                var junk = Data.AsSpan((int)Math.Min(offset, Data.Length)).IndexOfAnyExcept((byte)0);
                if (junk >= 0)
                {
                    Damage = new WalDamage(offset, AfterEndOfData: true, LooksTorn: true,
                        $"non-zero bytes at offset {offset + junk} after the end of the written data at {offset}");
                }
                return;
            }
            if (!TryDecodeFrame(Data, offset, Sequence, out var record, out _, out var problem, _verifyChecksums))
            {
                DataEnd = offset;
                Damage = new WalDamage(offset, AfterEndOfData: false, LooksTorn(offset), problem!);
                return;
            }
            if (record.Type == WalRecordType.SegmentHeader)
            {
                DataEnd = offset;
                Damage = new WalDamage(offset, AfterEndOfData: false, LooksTorn: false, "a second segment header inside the segment");
                return;
            }
            Records.Add(record);
            offset += record.FrameBytes;
        }
    }

    /// <summary>
    /// A torn write loses whole sectors, which read back as zeros (segments are preallocated with zeros and the
    /// area past a repaired tail is zeroed), so a torn frame has a sector-bounded piece that is all zero.
    /// A frame damaged by bit rot has none.
    /// </summary>
    private bool LooksTorn(long offset)
    {
        var payloadBytes = BinaryPrimitives.ReadUInt32LittleEndian(Data.AsSpan((int)offset));
        if (payloadBytes > Data.Length - offset - WalFrame.HeaderBytes)
        {
            return false;
        }
        var end = offset + WalFrame.FrameBytes((int)payloadBytes);
        const int Sector = SimulatedFileSystem.SectorSizeBytes;
        for (var start = offset; start < end;)
        {
            var chunkEnd = Math.Min(end, (start / Sector + 1) * Sector);
            if (IsZero(Data.AsSpan((int)start, (int)(chunkEnd - start))))
            {
                return true;
            }
            start = chunkEnd;
        }
        return false;
    }

    /// <summary>Valid frames at 8-byte aligned offsets at or after <paramref name="from"/>: records written after a damage.</summary>
    public IEnumerable<WalRecord> ValidFramesFrom(long from)
    {
        for (var offset = from; offset + WalFrame.HeaderBytes <= Data.Length; offset += WalFrame.AlignmentBytes)
        {
            var type = Data[offset + 8];
            if (type == 0 || !WalFrame.IsKnownType(type))
            {
                continue;
            }
            if (TryDecodeFrame(Data, offset, Sequence, out var record, out _, out _, _verifyChecksums))
            {
                yield return record;
            }
        }
    }

    public static bool TryDecodeFrame(byte[] data, long offset, ulong sequence, out WalRecord record, out ReadOnlySpan<byte> payload, out string? problem, bool verifyChecksum = true)
    {
        record = default;
        payload = default;
        var remaining = data.Length - offset;
        if (remaining < WalFrame.HeaderBytes)
        {
            problem = "incomplete record header at the end of the segment";
            return false;
        }
        var frame = data.AsSpan((int)offset);
        var payloadBytes = BinaryPrimitives.ReadUInt32LittleEndian(frame);
        if (payloadBytes > remaining - WalFrame.HeaderBytes)
        {
            problem = $"record length {payloadBytes} runs past the end of the segment";
            return false;
        }
        var storedChecksum = BinaryPrimitives.ReadUInt32LittleEndian(frame[4..]);
        if (verifyChecksum && storedChecksum != WalFrame.Checksum(frame, sequence, offset, (int)payloadBytes))
        {
            problem = $"checksum mismatch (record length {payloadBytes}, type {frame[8]})";
            return false;
        }
        var type = frame[8];
        if (!WalFrame.IsKnownType(type) || frame[9] != 0 || frame[10] != 0 || frame[11] != 0)
        {
            problem = $"unknown record type {type} (written by a newer version?)";
            return false;
        }
        var group = BinaryPrimitives.ReadUInt32LittleEndian(frame[12..]);
        payload = frame.Slice(WalFrame.HeaderBytes, (int)payloadBytes);
        var frameBytes = WalFrame.FrameBytes((int)payloadBytes);
        if (frameBytes > remaining || frame[(WalFrame.HeaderBytes + (int)payloadBytes)..frameBytes].IndexOfAnyExcept((byte)0) >= 0)
        {
            // Padding is outside the checksum, so it is checked here: every written bit is verified.
            problem = "non-zero padding after the record";
            return false;
        }
        if (!TryDecodePayload((WalRecordType)type, group, offset, frameBytes, payload, out record))
        {
            problem = $"record of type {(WalRecordType)type} has a malformed payload of {payloadBytes} bytes";
            return false;
        }
        problem = null;
        return true;
    }

    private static bool TryDecodePayload(WalRecordType type, uint group, long offset, int frameBytes, ReadOnlySpan<byte> payload, out WalRecord record)
    {
        record = new WalRecord(type, group, offset, frameBytes, default, default, 0, 0);
        switch (type)
        {
            case WalRecordType.SegmentHeader:
                return payload.Length == WalSegmentHeader.PayloadBytes;
            case WalRecordType.Entry:
                if (payload.Length < WalPayload.EntryFixedBytes || payload[16] > (byte)EntryType.ConfigChange)
                {
                    return false;
                }
                record = record with { Entry = WalPayload.ReadEntry(payload) };
                return true;
            case WalRecordType.HardState:
                if (payload.Length != WalPayload.HardStateBytes)
                {
                    return false;
                }
                record = record with { HardState = WalPayload.ReadHardState(payload) };
                return true;
            case WalRecordType.Snapshot:
                if (payload.Length != WalPayload.SnapshotMarkerBytes)
                {
                    return false;
                }
                record = record with
                {
                    SnapshotIndex = BinaryPrimitives.ReadUInt64LittleEndian(payload),
                    SnapshotTerm = BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]),
                };
                return true;
            case WalRecordType.SyncMark:
                return payload.Length == 0;
            default:
                return false;
        }
    }

    private static bool IsZero(ReadOnlySpan<byte> bytes) => bytes.IndexOfAnyExcept((byte)0) < 0;
}
