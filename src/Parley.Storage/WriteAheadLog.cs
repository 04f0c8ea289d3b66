using Parley.Raft;

namespace Parley.Storage;

/// <summary>
/// The write-ahead log: Raft entries, hard states and snapshot markers in preallocated fixed-size segment files.
/// Writing is two steps so that one fdatasync covers a whole batch (group commit): <see cref="Append"/> frames
/// records in memory (no I/O), <see cref="Sync"/> writes them with one write per segment touched and one
/// fdatasync each, usually exactly one of each. The caller decides the batch: a node loop appends everything its
/// Ready holds and syncs once, so batches grow with load and an idle member syncs as soon as it has something.
/// No clock of its own (an optional <see cref="StorageOptions.SyncTimer"/> only reports fdatasync durations), no
/// randomness, no threads unless <see cref="StorageOptions.PrepareSegmentsAhead"/> (a server's choice) asks for pool
/// threads that write zeros ahead: it runs unchanged over <see cref="SimulatedFileSystem"/>.
/// Single-threaded by contract, but for <see cref="WalBatch.Run"/>: a host may split <see cref="Sync"/> into
/// <see cref="BeginSync"/>, the batch's write and sync on a thread of its own, and <see cref="EndSync"/>.
/// </summary>
public sealed partial class WriteAheadLog : IDisposable
{
    private readonly IFileSystem _fileSystem;
    private readonly string _directory;
    private readonly StorageIdentity _identity;
    private readonly StorageOptions _options;
    private readonly List<WalSegment> _segments = [];
    private readonly List<WalPendingChunk> _pending = [];
    private int _activeIndex;
    private long _writeOffset;
    private uint _nextGroup;
    private HardState _appendedHardState;
    private (ulong Index, ulong Term) _appendedSnapshot;
    private (ulong Index, ulong Term) _durableSnapshot;
    private long _pendingBytes;
    private string? _failure;
    // The batch taken by BeginSync and not yet ended, the index of the first segment it writes to, and the snapshot
    // marker that is durable once it is.
    private WalBatch? _inFlight;
    private int _inFlightFirstSegment;
    private (ulong Index, ulong Term) _inFlightSnapshot;
    // The next segment's file, being created ahead on a pool thread (StorageOptions.PrepareSegmentsAhead).
    private Task<IStorageFile?>? _prepared;
    private ulong _preparedSequence;
    // Zeros being written ahead of the records (the same option): the range [_zeroingStart, _zeroingEnd) of
    // _zeroingSegment, through a handle of its own, on a pool thread.
    private Task<bool>? _zeroing;
    private WalSegment? _zeroingSegment;
    private long _zeroingStart;
    private long _zeroingEnd;
    private byte[]? _zeros;

    private WriteAheadLog(IFileSystem fileSystem, string directory, StorageIdentity identity, StorageOptions options)
    {
        _fileSystem = fileSystem;
        _directory = directory;
        _identity = identity;
        _options = options;
    }

    public string Directory => _directory;

    /// <summary>The largest entry payload a segment can hold.</summary>
    public int EntryDataBytesMax =>
        (int)_options.SegmentSizeBytes - HeaderFrameBytes - PrologueBytesMax - WalFrame.HeaderBytes - WalPayload.EntryFixedBytes - SyncMarkFrameBytes - WalFrame.AlignmentBytes;

    public bool HasPendingWrites => _pending.Count > 0;

    public long PendingBytes => _pendingBytes;

    public int SegmentCount => _segments.Count;

    public WalStatistics Statistics { get; } = new();

    /// <summary>How far ahead of the records <see cref="ZeroAhead"/> keeps a segment's blocks written, and how much it writes at a time.</summary>
    internal const int ZeroAheadBytes = 1024 * 1024;

    private static int HeaderFrameBytes => WalFrame.FrameBytes(WalSegmentHeader.PayloadBytes);

    private static int SyncMarkFrameBytes => WalFrame.FrameBytes(0);

    private static int PrologueBytesMax => WalFrame.FrameBytes(WalPayload.HardStateBytes) + WalFrame.FrameBytes(WalPayload.SnapshotMarkerBytes);

    /// <summary>Starts a new, empty log in an existing, empty directory.</summary>
    public static WriteAheadLog Create(IFileSystem fileSystem, string directory, StorageIdentity identity, StorageOptions options)
    {
        options.Validate();
        if (fileSystem.ListFiles(directory).Count > 0)
        {
            throw new InvalidOperationException($"{directory} is not empty; open the existing log instead of creating one");
        }
        var log = new WriteAheadLog(fileSystem, directory, identity, options);
        var segment = log.CreateSegment(0);
        log._segments.Add(segment);
        log._writeOffset = segment.HeaderEndOffset;
        return log;
    }

    /// <summary>
    /// Frames the entries, then the hard state if it is not empty and differs from the last one, for the next
    /// <see cref="Sync"/>. Entries whose index is at or below an earlier one replace the earlier ones from there on
    /// (Raft truncating a follower's conflicting suffix); recovery applies the same rule.
    /// </summary>
    public void Append(HardState hardState, IReadOnlyList<Entry> entries)
    {
        ThrowIfFailed();
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (entry.Data.Length > EntryDataBytesMax)
            {
                throw new ArgumentException($"entry {entry.Index} has {entry.Data.Length} bytes; a segment holds at most {EntryDataBytesMax}", nameof(entries));
            }
            var frame = Reserve(WalPayload.EntryFixedBytes + entry.Data.Length, out var chunk);
            WalPayload.WriteEntry(frame[WalFrame.HeaderBytes..], entry);
            Seal(frame, chunk, WalRecordType.Entry, WalPayload.EntryFixedBytes + entry.Data.Length);
            chunk.EntryIndexMax = Math.Max(chunk.EntryIndexMax, entry.Index);
        }
        if (!hardState.IsEmpty && hardState != _appendedHardState)
        {
            AppendHardState(hardState);
        }
    }

    /// <summary>The index of the newest snapshot marker appended (durable after the next <see cref="Sync"/>); 0 if none.</summary>
    public ulong SnapshotMarkerIndex => _appendedSnapshot.Index;

    /// <summary>Records that a snapshot at (index, term) is durable in the snapshot store: recovery may start from it.</summary>
    public void AppendSnapshotMarker(ulong index, ulong term)
    {
        ThrowIfFailed();
        var frame = Reserve(WalPayload.SnapshotMarkerBytes, out var chunk);
        WalPayload.WriteSnapshotMarker(frame[WalFrame.HeaderBytes..], index, term);
        Seal(frame, chunk, WalRecordType.Snapshot, WalPayload.SnapshotMarkerBytes);
        _appendedSnapshot = (index, term);
    }

    /// <summary>
    /// Makes everything appended so far durable: per segment touched (almost always one) one write and one fdatasync.
    /// Does nothing when nothing is pending. A batch in flight (<see cref="BeginSync"/>) is finished first. Throws
    /// <see cref="StorageFullException"/> if a new segment cannot be allocated; then nothing was written and the batch
    /// stays pending (call again once space is freed). A failed write or sync is fatal (<see cref="StorageOptions.FatalHandler"/>).
    /// </summary>
    public void Sync()
    {
        if (_inFlight is { } inFlight)
        {
            inFlight.Run();
            EndSync(inFlight);
        }
        if (BeginSync() is { } batch)
        {
            batch.Run();
            EndSync(batch);
        }
    }

    /// <summary>Whether a batch taken by <see cref="BeginSync"/> has not been through <see cref="EndSync"/> yet.</summary>
    public bool SyncInFlight => _inFlight is not null;

    /// <summary>
    /// Takes everything appended so far as one batch for <see cref="WalBatch.Run"/>, which may run on another thread;
    /// <see cref="EndSync"/> then completes it here. Appends go on meanwhile and form the next batch; only one batch is
    /// in flight at a time (recovery's torn-write rule allows one unsynced write). Null when nothing is pending. Throws
    /// <see cref="StorageFullException"/> as <see cref="Sync"/> does.
    /// </summary>
    public WalBatch? BeginSync()
    {
        ThrowIfFailed();
        Invariant.Check(_inFlight is null, "one WAL batch in flight at a time");
        if (_pending.Count == 0)
        {
            return null;
        }
        for (var i = 0; i < _pending.Count; i++)
        {
            EnsureSegment(_activeIndex + _pending[i].SegmentOffset);
        }
        var writes = new List<(WalPendingChunk, IStorageFile, string)>(_pending.Count);
        foreach (var chunk in _pending)
        {
            if (!chunk.Sealed)
            {
                var frame = chunk.Reserve(SyncMarkFrameBytes);
                Seal(frame, chunk, WalRecordType.SyncMark, 0);
                chunk.Sealed = true;
            }
            var segment = _segments[_activeIndex + chunk.SegmentOffset];
            Invariant.Check(chunk.StartOffset + chunk.Length <= _options.SegmentSizeBytes, "chunk overflows its segment");
            if (_zeroingSegment == segment && chunk.StartOffset + chunk.Length > _zeroingStart)
            {
                FinishZeroing(); // never write records where zeros are still to land
            }
            writes.Add((chunk, segment.File!, segment.Path));
        }
        // What is appended from now on goes after this batch, into the segment where it ends.
        var last = _pending[^1];
        _inFlightFirstSegment = _activeIndex;
        _activeIndex += last.SegmentOffset;
        _writeOffset = last.EndOffset;
        _nextGroup += (uint)_pending.Count;
        _inFlightSnapshot = _appendedSnapshot;
        _pending.Clear();
        _pendingBytes = 0;
        _inFlight = new WalBatch(writes, _options.SyncTimer);
        return _inFlight;
    }

    /// <summary>
    /// After <paramref name="batch"/>'s <see cref="WalBatch.Run"/> finished: records what is durable now, closes the
    /// segments it finished with, and prepares the next segment and zeros ahead. A failed write or sync is fatal
    /// (<see cref="StorageOptions.FatalHandler"/>). A batch already ended is ignored.
    /// </summary>
    public void EndSync(WalBatch batch)
    {
        if (batch.Ended)
        {
            return;
        }
        Invariant.Check(batch == _inFlight, "EndSync for the batch in flight");
        batch.Ended = true;
        _inFlight = null;
        if (batch.Failure is { } failure)
        {
            batch.ReleaseBuffers();
            Fail(failure.Message, failure.Exception);
        }
        var segmentIndex = _inFlightFirstSegment;
        foreach (var (chunk, _, _) in batch.Writes)
        {
            var segment = _segments[_inFlightFirstSegment + chunk.SegmentOffset];
            for (; segmentIndex < _inFlightFirstSegment + chunk.SegmentOffset; segmentIndex++)
            {
                _segments[segmentIndex].File?.Dispose(); // synced for the last time: the next segment has records
                _segments[segmentIndex].File = null;
            }
            segment.HasData = true;
            segment.EntryIndexMax = Math.Max(segment.EntryIndexMax, chunk.EntryIndexMax);
            Statistics.Syncs++;
            Statistics.BytesWritten += chunk.Length;
        }
        batch.ReleaseBuffers();
        _durableSnapshot = _inFlightSnapshot;
        Statistics.Batches++;
        if (_writeOffset >= _options.SegmentSizeBytes / 2)
        {
            // half full: time to prepare the next one (a short-lived member, a test's, never writes 64 MiB of zeros)
            PrepareAhead(_segments[^1].Sequence + 1);
        }
        ZeroAhead();
    }

    /// <summary>
    /// Deletes the oldest segments whose entries all lie at or below <paramref name="snapshotIndex"/>, never the newest
    /// segment holding data (its first records repeat the hard state and snapshot marker that recovery needs).
    /// The snapshot marker for that index must be durable. Returns how many segments were removed.
    /// </summary>
    public int ReleaseBefore(ulong snapshotIndex)
    {
        ThrowIfFailed();
        Invariant.Check(_inFlight is null, "segments are released with no batch in flight");
        Invariant.Check(snapshotIndex <= _durableSnapshot.Index,
            $"release to {snapshotIndex} before a snapshot marker at or past it is durable (durable marker {_durableSnapshot.Index})");
        var newestWithData = _activeIndex;
        while (newestWithData > 0 && !_segments[newestWithData].HasData)
        {
            newestWithData--;
        }
        var released = 0;
        while (released < newestWithData && _segments[released].EntryIndexMax <= snapshotIndex)
        {
            released++;
        }
        if (released == 0)
        {
            return 0;
        }
        for (var i = 0; i < released; i++)
        {
            _segments[i].File?.Dispose();
            _fileSystem.DeleteFile(_segments[i].Path);
        }
        SyncDirectoryOrFail();
        _segments.RemoveRange(0, released);
        _activeIndex -= released;
        Statistics.SegmentsReleased += released;
        return released;
    }

    public void Dispose()
    {
        if (_inFlight is { } inFlight)
        {
            inFlight.CancelOrWait(); // as pending records, one not started is dropped: nothing waited on it was acknowledged
            _inFlight = null;
            inFlight.ReleaseBuffers();
        }
        FinishZeroing();
        DiscardPrepared();
        ClearPending();
        foreach (var segment in _segments)
        {
            segment.File?.Dispose();
            segment.File = null;
        }
    }

    private void AppendHardState(HardState hardState)
    {
        var frame = Reserve(WalPayload.HardStateBytes, out var chunk);
        WalPayload.WriteHardState(frame[WalFrame.HeaderBytes..], hardState);
        Seal(frame, chunk, WalRecordType.HardState, WalPayload.HardStateBytes);
        _appendedHardState = hardState;
    }

    /// <summary>Finds room for a frame: in the current chunk, or in a new chunk at the start of the next segment.</summary>
    private Span<byte> Reserve(int payloadBytes, out WalPendingChunk chunk)
    {
        var frameBytes = WalFrame.FrameBytes(payloadBytes);
        if (_pendingBytes + frameBytes > _options.PendingBytesMax)
        {
            throw new InvalidOperationException($"more than {_options.PendingBytesMax} bytes appended without a sync");
        }
        if (_pending.Count == 0)
        {
            // Never an empty chunk: its sync mark alone might not fit in a nearly full segment.
            if (_writeOffset + frameBytes + SyncMarkFrameBytes > _options.SegmentSizeBytes)
            {
                StartChunk(1, HeaderFrameBytes);
            }
            else
            {
                StartChunk(0, _writeOffset);
            }
        }
        chunk = _pending[^1];
        if (chunk.EndOffset + frameBytes + SyncMarkFrameBytes > _options.SegmentSizeBytes)
        {
            StartChunk(chunk.SegmentOffset + 1, HeaderFrameBytes);
            chunk = _pending[^1];
        }
        _pendingBytes += frameBytes;
        return chunk.Reserve(frameBytes);
    }

    /// <summary>A chunk at the start of a segment opens with the current hard state and snapshot marker, so that the
    /// segments before it can be released without losing them.</summary>
    private void StartChunk(int segmentOffset, long startOffset)
    {
        var sequence = (_segments.Count > 0 ? _segments[_activeIndex].Sequence : 0) + (ulong)segmentOffset;
        _pending.Add(new WalPendingChunk(segmentOffset, sequence, startOffset, _nextGroup + (uint)_pending.Count));
        if (startOffset != HeaderFrameBytes)
        {
            return;
        }
        if (!_appendedHardState.IsEmpty)
        {
            AppendHardState(_appendedHardState);
        }
        if (_appendedSnapshot.Index > 0)
        {
            var frame = Reserve(WalPayload.SnapshotMarkerBytes, out var chunk);
            WalPayload.WriteSnapshotMarker(frame[WalFrame.HeaderBytes..], _appendedSnapshot.Index, _appendedSnapshot.Term);
            Seal(frame, chunk, WalRecordType.Snapshot, WalPayload.SnapshotMarkerBytes);
        }
    }

    private static void Seal(Span<byte> frame, WalPendingChunk chunk, WalRecordType type, int payloadBytes)
    {
        var fileOffset = chunk.EndOffset - frame.Length;
        WalFrame.Seal(frame, type, chunk.Group, chunk.SegmentSequence, fileOffset, payloadBytes);
    }

    private void EnsureSegment(int index)
    {
        while (_segments.Count <= index)
        {
            _segments.Add(CreateSegment(_segments[^1].Sequence + 1));
        }
    }

    /// <summary>Creates a segment under a temporary name (allocated, header written, synced), renames it, syncs the directory.</summary>
    private WalSegment CreateSegment(ulong sequence)
    {
        var path = Path.Combine(_directory, StorageFormat.SegmentFileName(sequence));
        var temporaryPath = path + StorageFormat.TemporaryExtension;
        var header = new byte[HeaderFrameBytes];
        new WalSegmentHeader(StorageFormat.Version, _identity, sequence).Write(header.AsSpan(WalFrame.HeaderBytes));
        WalFrame.Seal(header, WalRecordType.SegmentHeader, 0, sequence, 0, WalSegmentHeader.PayloadBytes);
        var file = TakePrepared(sequence);
        var prepared = file is not null;
        if (file is null)
        {
            if (_fileSystem.FileExists(temporaryPath))
            {
                _fileSystem.DeleteFile(temporaryPath);
            }
            try
            {
                file = _fileSystem.CreateFile(temporaryPath, _options.SegmentSizeBytes);
            }
            catch (StorageFullException exception)
            {
                throw new StorageFullException(
                    $"cannot allocate WAL segment {path} ({_options.SegmentSizeBytes} bytes): the device is full. Nothing was written; " +
                    "free space (or move the data directory to a bigger device) and retry.", exception);
            }
        }
        try
        {
            file.Write(0, header);
            file.Sync();
            _fileSystem.Rename(temporaryPath, path);
            _fileSystem.SyncDirectory(_directory);
        }
        catch (IOException exception)
        {
            file.Dispose();
            Fail($"creating WAL segment {path} failed: {exception.Message}", exception);
        }
        Statistics.SegmentsCreated++;
        return new WalSegment(sequence, path, HeaderFrameBytes)
        {
            File = file,
            WrittenEnd = prepared ? Math.Min(ZeroAheadBytes, _options.SegmentSizeBytes) : HeaderFrameBytes,
        };
    }

    /// <summary>
    /// Starts creating segment <paramref name="sequence"/>'s file on a pool thread (if so configured and not already
    /// under way), its first <see cref="ZeroAheadBytes"/> zero-filled; <see cref="ZeroAhead"/> writes the rest a little
    /// at a time once it is in use, rather than 64 MiB at once while fdatasyncs wait behind them.
    /// </summary>
    private void PrepareAhead(ulong sequence)
    {
        if (!_options.PrepareSegmentsAhead || _prepared is not null)
        {
            return;
        }
        var temporaryPath = Path.Combine(_directory, StorageFormat.SegmentFileName(sequence)) + StorageFormat.TemporaryExtension;
        var fileSystem = _fileSystem;
        var length = _options.SegmentSizeBytes;
        _preparedSequence = sequence;
        _prepared = Task.Run(() =>
        {
            try
            {
                if (fileSystem.FileExists(temporaryPath))
                {
                    fileSystem.DeleteFile(temporaryPath);
                }
                return fileSystem.CreateZeroedFile(temporaryPath, length, Math.Min(ZeroAheadBytes, length));
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // the segment is then created when it is needed, where a failure is reported (a full disk included)
                return (IStorageFile?)null;
            }
        });
    }

    /// <summary>The prepared file for <paramref name="sequence"/> (waiting for it if it is still being written), or null.</summary>
    private IStorageFile? TakePrepared(ulong sequence)
    {
        if (_prepared is not { } preparing || _preparedSequence != sequence)
        {
            DiscardPrepared();
            return null;
        }
        _prepared = null;
        return preparing.GetAwaiter().GetResult();
    }

    /// <summary>Waits for a segment being prepared, if any, and deletes it.</summary>
    private void DiscardPrepared()
    {
        if (_prepared is not { } preparing)
        {
            return;
        }
        _prepared = null;
        if (preparing.GetAwaiter().GetResult() is not { } file)
        {
            return;
        }
        file.Dispose();
        try
        {
            _fileSystem.DeleteFile(file.Path);
        }
        catch (IOException)
        {
            // a leftover temporary file is removed when the storage is next opened
        }
    }

    /// <summary>
    /// Keeps the active segment's blocks written (with zeros) about <see cref="ZeroAheadBytes"/> ahead of its records
    /// (a prepared segment starts with that much written; the first segment, or one whose preparation failed, with
    /// none). A block that was only allocated (fallocate) is an unwritten extent: the first write into it changes the
    /// file's extent tree, which that fdatasync must then write too (or commit in the journal): one more device write in
    /// the path of every commit. Three writers on this VM's disk (ext4) measured 0.66-0.72 ms per 16 KiB write and
    /// fdatasync into allocated blocks against 0.42-0.46 ms into written ones. The zeros go through a handle of their
    /// own, so that its fdatasync cannot consume a write error that this log's next fdatasync must see (Linux reports
    /// each error once per open file description); they land only past the records, and records are never written into
    /// a range being zeroed (<see cref="Sync"/> waits for it first). Recovery reads zeros as the end of the log, as before.
    /// </summary>
    private void ZeroAhead()
    {
        if (!_options.PrepareSegmentsAhead)
        {
            return;
        }
        if (_zeroing is { IsCompleted: false })
        {
            return;
        }
        FinishZeroing();
        var segment = _segments[_activeIndex];
        if (segment.WrittenEnd >= _options.SegmentSizeBytes || segment.WrittenEnd - _writeOffset >= ZeroAheadBytes)
        {
            return;
        }
        const int BlockBytes = 4096;
        var start = Math.Max(segment.WrittenEnd, (_writeOffset + BlockBytes - 1) / BlockBytes * BlockBytes);
        var end = Math.Min(start + ZeroAheadBytes, _options.SegmentSizeBytes);
        if (start >= end)
        {
            segment.WrittenEnd = _options.SegmentSizeBytes;
            return;
        }
        var zeros = _zeros ??= new byte[ZeroAheadBytes];
        var fileSystem = _fileSystem;
        var path = segment.Path;
        _zeroingSegment = segment;
        _zeroingStart = start;
        _zeroingEnd = end;
        _zeroing = Task.Run(() =>
        {
            try
            {
                using var file = fileSystem.OpenFile(path, writable: true);
                file.Write(start, zeros.AsSpan(0, (int)(end - start)));
                file.Sync();
                return true;
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // Only a speed-up: the records' own writes and fdatasyncs stay correct, and report their own errors.
                return false;
            }
        });
    }

    /// <summary>Waits for the zeros being written ahead, if any, and records how far the segment's blocks are written.</summary>
    private void FinishZeroing()
    {
        if (_zeroing is not { } zeroing)
        {
            return;
        }
        var segment = _zeroingSegment!;
        _zeroing = null;
        _zeroingSegment = null;
        if (zeroing.GetAwaiter().GetResult())
        {
            segment.WrittenEnd = Math.Max(segment.WrittenEnd, _zeroingEnd);
            Statistics.BytesZeroedAhead += _zeroingEnd - _zeroingStart;
        }
        else
        {
            // stop zeroing this segment: records written into allocated blocks are slower to sync, never wrong
            segment.WrittenEnd = _options.SegmentSizeBytes;
        }
    }

    private void SyncDirectoryOrFail()
    {
        try
        {
            _fileSystem.SyncDirectory(_directory);
        }
        catch (IOException exception)
        {
            Fail($"fsync of directory {_directory} failed: {exception.Message}", exception);
        }
    }

    private void ClearPending()
    {
        foreach (var chunk in _pending)
        {
            chunk.Dispose();
        }
        _pending.Clear();
        _pendingBytes = 0;
    }

    private void ThrowIfFailed()
    {
        if (_failure is not null)
        {
            throw new StorageFatalException($"the WAL stopped after a failed sync and must be reopened from disk: {_failure}");
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void Fail(string message, Exception exception)
    {
        _failure = message;
        _options.FatalHandler(message);
        throw new StorageFatalException(message, exception);
    }
}
