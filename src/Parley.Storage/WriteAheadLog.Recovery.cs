using Parley.Raft;

namespace Parley.Storage;

public sealed partial class WriteAheadLog
{
    /// <summary>
    /// Opens an existing log: decodes every segment, truncates a torn tail (zeroing it, synced) and reports it in
    /// <see cref="WalReplay.Repair"/>, and refuses anything else that is damaged with a
    /// <see cref="StorageCorruptionException"/> naming the file and offset. A log of another format version or
    /// identity is refused with <see cref="StorageRefusedException"/>.
    /// </summary>
    public static WriteAheadLog Open(IFileSystem fileSystem, string directory, StorageIdentity identity, StorageOptions options, out WalReplay replay)
    {
        options.Validate();
        var scan = WalScan.Read(fileSystem, directory, identity, verifyChecksums: !options.SkipChecksumVerification);
        scan.ThrowIfUnusable();
        if (scan.Segments.Count == 0)
        {
            throw new StorageCorruptionException(directory, 0, "the WAL directory holds no segment files");
        }
        var log = new WriteAheadLog(fileSystem, directory, identity, options);
        replay = log.Load(scan);
        return log;
    }

    private WalReplay Load(WalScan scan)
    {
        var replay = new WalReplay { Repair = scan.TornTail };
        WalRecord? lastRecord = null;
        var lastRecordSegment = -1;
        foreach (var segmentScan in scan.Segments)
        {
            var segment = new WalSegment(segmentScan.Sequence, segmentScan.Path, segmentScan.HeaderFrameBytes)
            {
                HasData = segmentScan.Records.Count > 0,
            };
            foreach (var record in segmentScan.Records)
            {
                lastRecord = record;
                lastRecordSegment = _segments.Count;
                switch (record.Type)
                {
                    case WalRecordType.Entry:
                        replay.Add(record.Entry, segmentScan.Path, record.Offset);
                        segment.EntryIndexMax = Math.Max(segment.EntryIndexMax, record.Entry.Index);
                        break;
                    case WalRecordType.HardState:
                        replay.HardState = record.HardState;
                        break;
                    case WalRecordType.Snapshot:
                        replay.SnapshotMarkers.Add((record.SnapshotIndex, record.SnapshotTerm));
                        _appendedSnapshot = (record.SnapshotIndex, record.SnapshotTerm);
                        break;
                    default:
                        break;
                }
            }
            _segments.Add(segment);
        }
        if (scan.TornSegmentIndex >= 0)
        {
            for (var i = scan.TornSegmentIndex; i < scan.Segments.Count; i++)
            {
                var segmentScan = scan.Segments[i];
                ZeroFrom(segmentScan, i == scan.TornSegmentIndex ? scan.TornTail!.Offset : segmentScan.HeaderFrameBytes);
            }
        }
        _activeIndex = _segments.Count - 1;
        var active = _segments[_activeIndex];
        active.File = _fileSystem.OpenFile(active.Path, writable: true);
        _writeOffset = scan.Segments[^1].DataEnd;
        active.WrittenEnd = _writeOffset;
        _nextGroup = lastRecord is { } r ? r.Group + 1 : 0;
        if (lastRecord is { Type: not WalRecordType.SyncMark } open)
        {
            CloseGroup(scan.Segments[lastRecordSegment], open.Group, lastRecordSegment == _activeIndex);
        }
        _appendedHardState = replay.HardState;
        _durableSnapshot = _appendedSnapshot;
        return replay;
    }

    /// <summary>
    /// The last write before the crash survived only in part (whole records, no sync mark). Closing its group with a
    /// sync mark keeps the rule recovery relies on: every group but the newest ends with a sync mark, so a damaged
    /// record in the next write is judged against the right group.
    /// </summary>
    private void CloseGroup(WalSegmentScan segment, uint group, bool isActive)
    {
        var frame = new byte[SyncMarkFrameBytes];
        WalFrame.Seal(frame, WalRecordType.SyncMark, group, segment.Sequence, segment.DataEnd, 0);
        Invariant.Check(segment.DataEnd + frame.Length <= _options.SegmentSizeBytes, "no room left to close the last sync group");
        using var file = _fileSystem.OpenFile(segment.Path, writable: true);
        try
        {
            file.Write(segment.DataEnd, frame);
            file.Sync();
        }
        catch (IOException exception)
        {
            Fail($"closing the last write of {segment.Path} failed: {exception.Message}", exception);
        }
        if (isActive)
        {
            _writeOffset += frame.Length;
        }
    }

    /// <summary>Zeroes a segment from <paramref name="offset"/> to its last non-zero byte and syncs it, so that torn
    /// bytes can never be mistaken for records later.</summary>
    private void ZeroFrom(WalSegmentScan segment, long offset)
    {
        var tail = segment.Data.AsSpan((int)Math.Min(offset, segment.Data.Length));
        var lastNonZero = tail.LastIndexOfAnyExcept((byte)0);
        if (lastNonZero < 0)
        {
            return;
        }
        var zeros = new byte[Math.Min(lastNonZero + 1, 1024 * 1024)];
        using var file = _fileSystem.OpenFile(segment.Path, writable: true);
        try
        {
            for (long done = 0; done <= lastNonZero; done += zeros.Length)
            {
                var count = (int)Math.Min(zeros.Length, lastNonZero + 1 - done);
                file.Write(offset + done, zeros.AsSpan(0, count));
            }
            file.Sync();
        }
        catch (IOException exception)
        {
            Fail($"truncating the torn tail of {segment.Path} failed: {exception.Message}", exception);
        }
    }
}
