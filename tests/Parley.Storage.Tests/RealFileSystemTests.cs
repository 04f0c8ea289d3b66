using Parley.Raft;
using Parley.Storage;
using static Parley.Storage.Tests.StorageTestKit;

namespace Parley.Storage.Tests;

public class RealFileSystemTests
{
    [Theory]
    [InlineData(FileSyncMethod.Fdatasync)]
    [InlineData(FileSyncMethod.FileStreamFlush)]
    public void RealDisk_KeepsSyncedEntries_InPreallocatedSegments(FileSyncMethod syncMethod)
    {
        using var directory = new TemporaryDirectory("storage-test");
        var fileSystem = new RealFileSystem(syncMethod);
        var options = Options(segmentSizeBytes: 128 * 1024);
        var written = Entries(1, 1000, dataBytes: 200);
        using (var storage = MemberStorage.Open(fileSystem, directory.Path, Identity, options))
        {
            for (var i = 0; i < written.Count; i += 100)
            {
                storage.Append(new HardState(2, 1, (ulong)i), written.GetRange(i, 100));
                storage.Sync();
            }
        }
        var segments = Directory.GetFiles(Path.Combine(directory.Path, "wal"));
        Assert.True(segments.Length > 1);
        Assert.All(segments, path => Assert.Equal(128 * 1024, new FileInfo(path).Length));
        using var reopened = MemberStorage.Open(fileSystem, directory.Path, Identity, options);
        AssertSameEntries(written, reopened.Recovered.Entries);
        Assert.Equal(new HardState(2, 1, 900), reopened.Recovered.HardState);
    }

    [Fact]
    public void RealDisk_SegmentsPreparedAhead_HoldTheEntries_AndLeaveNoTemporaryFileBehind()
    {
        using var directory = new TemporaryDirectory("storage-test");
        var fileSystem = new RealFileSystem();
        var options = Options(segmentSizeBytes: 128 * 1024) with { PrepareSegmentsAhead = true };
        var wal = Path.Combine(directory.Path, "wal");
        var written = Entries(1, 4000, dataBytes: 200);
        var appended = 0;
        using (var storage = MemberStorage.Open(fileSystem, directory.Path, Identity, options))
        {
            // once the active segment is half full, the next one appears under its temporary name, at its full length
            var prepared = false;
            while (!prepared && appended < 2000)
            {
                storage.Append(new HardState(2, 1, (ulong)appended), written.GetRange(appended, 100));
                storage.Sync();
                appended += 100;
                var next = Path.Combine(wal, StorageFormat.SegmentFileName((ulong)Directory.GetFiles(wal, "*.wal").Length)) + StorageFormat.TemporaryExtension;
                prepared = SpinWait.SpinUntil(() => File.Exists(next) && new FileInfo(next).Length == 128 * 1024, TimeSpan.FromMilliseconds(500));
            }
            Assert.True(prepared, "no segment was prepared ahead");
        }
        Assert.Empty(Directory.GetFiles(wal, "*" + StorageFormat.TemporaryExtension));
        using (var reopened = MemberStorage.Open(fileSystem, directory.Path, Identity, options))
        {
            AssertSameEntries(written.GetRange(0, appended), reopened.Recovered.Entries);
            for (; appended < written.Count; appended += 100)
            {
                reopened.Append(new HardState(2, 1, (ulong)appended), written.GetRange(appended, 100));
                reopened.Sync();
            }
        }
        var segments = Directory.GetFiles(wal);
        Assert.True(segments.Length > 4);
        Assert.All(segments, path => Assert.Equal(128 * 1024, new FileInfo(path).Length));
        using var last = MemberStorage.Open(fileSystem, directory.Path, Identity, options);
        AssertSameEntries(written, last.Recovered.Entries);
        Assert.Equal(new HardState(2, 1, 3900), last.Recovered.HardState);
    }

    [Fact]
    public void RealDisk_SegmentThatCouldNotBePrepared_IsCreatedWhenNeeded()
    {
        using var directory = new TemporaryDirectory("storage-test");
        var fileSystem = new NoZeroedFiles(new RealFileSystem());
        var options = Options(segmentSizeBytes: 128 * 1024) with { PrepareSegmentsAhead = true };
        var written = Entries(1, 1500, dataBytes: 200);
        using (var storage = MemberStorage.Open(fileSystem, directory.Path, Identity, options))
        {
            for (var i = 0; i < written.Count; i += 100)
            {
                storage.Append(new HardState(2, 1, (ulong)i), written.GetRange(i, 100));
                storage.Sync();
            }
        }
        Assert.True(fileSystem.Refused > 0, "no segment was prepared ahead");
        var wal = Path.Combine(directory.Path, "wal");
        Assert.True(Directory.GetFiles(wal, "*.wal").Length > 2);
        Assert.Empty(Directory.GetFiles(wal, "*" + StorageFormat.TemporaryExtension));
        using var reopened = MemberStorage.Open(fileSystem, directory.Path, Identity, options);
        AssertSameEntries(written, reopened.Recovered.Entries);
    }

    [Fact]
    public void RealDisk_WriteBack_WritesOutRanges_AndReportsAFailure()
    {
        using var directory = new TemporaryDirectory("storage-test");
        Directory.CreateDirectory(directory.Path);
        var path = Path.Combine(directory.Path, "file");
        var data = new byte[3 << 20];
        new Random(12).NextBytes(data);
        using (var file = new RealFileSystem().CreateFile(path, data.Length))
        {
            file.Write(0, data);
            file.WriteBack(0, 1 << 20, wait: false);
            file.WriteBack(1 << 20, 2 << 20, wait: true);
            file.WriteBack(0, 0, wait: true); // nothing to write out
            Assert.Equal(OperatingSystem.IsLinux(), ((RealStorageFile)file).WriteBackSupported);
            file.Sync();
        }
        Assert.Equal(data, System.IO.File.ReadAllBytes(path));
        if (OperatingSystem.IsLinux())
        {
            var failure = Assert.Throws<IOException>(() => NativeMethods.SyncFileRange(-1, 0, 4096, wait: true, "nowhere"));
            Assert.Contains("writing out 4096 bytes at offset 0 of nowhere failed", failure.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>A real file system whose zero-filled files always fail (as on a full disk).</summary>
    private sealed class NoZeroedFiles(RealFileSystem inner) : DelegatingFileSystem(inner)
    {
        private int _refused;

        public int Refused => Volatile.Read(ref _refused);

        public override IStorageFile CreateZeroedFile(string path, long lengthBytes, long zeroedBytes)
        {
            Interlocked.Increment(ref _refused);
            throw new StorageFullException($"no space left for {path}", new IOException("ENOSPC"));
        }
    }

    [Fact]
    public void RealDisk_FirstSegment_GetsZerosWrittenAheadOfItsRecords_NeverOverThem()
    {
        using var directory = new TemporaryDirectory("storage-test");
        // Zeros land slowly (30 ms a write) and batches are big, so the records catch up with a range being zeroed
        // and must wait for it: a record written there first would be overwritten by the zeros.
        var fileSystem = new RecordingFileSystem(new RealFileSystem(), zeroWriteDelay: TimeSpan.FromMilliseconds(30));
        const long SegmentBytes = 8L * 1024 * 1024;
        var options = Options(segmentSizeBytes: SegmentBytes) with { PrepareSegmentsAhead = true };
        var written = Entries(1, 6000, dataBytes: 1000);
        WalStatistics statistics;
        using (var storage = MemberStorage.Open(fileSystem, directory.Path, Identity, options))
        {
            statistics = storage.Wal.Statistics;
            for (var i = 0; i < written.Count; i += 300)
            {
                storage.Append(new HardState(2, 1, (ulong)i), written.GetRange(i, 300));
                storage.Sync();
            }
        }
        var zeroedAhead = statistics.BytesZeroedAhead; // counted once each write is waited for (at the latest, by Dispose)
        var segment = Path.Combine(directory.Path, "wal", StorageFormat.SegmentFileName(0));
        var writes = fileSystem.Writes(segment);
        var records = writes.Where(w => !w.Zeros).ToList();
        var zeros = writes.Where(w => w.Zeros).ToList();
        Assert.True(records.Count >= 20, $"{records.Count} record writes");
        Assert.True(zeros.Count >= 4, $"{zeros.Count} zero writes ahead");
        Assert.Equal(zeros.Sum(w => (long)w.Length), zeroedAhead);
        // each zero write finished before any record write into its range began
        foreach (var zero in zeros)
        {
            foreach (var record in records.Where(r => r.Offset < zero.Offset + zero.Length && zero.Offset < r.Offset + r.Length))
            {
                Assert.True(zero.Finished < record.Started,
                    $"records at [{record.Offset}, +{record.Length}) were written while or before zeros landed at [{zero.Offset}, +{zero.Length})");
            }
        }
        // the zeros ran ahead: the records' end lies inside the zeroed span, with room to spare
        var recordsEnd = records.Max(w => w.Offset + w.Length);
        var zerosEnd = zeros.Max(w => w.Offset + w.Length);
        Assert.True(zerosEnd > recordsEnd, "no zeros ahead of the last record");
        Assert.Equal(SegmentBytes, new FileInfo(segment).Length);
        var probe = Path.Combine(directory.Path, "probe");
        new RealFileSystem().CreateFile(probe, 1024 * 1024).Dispose();
        if (OperatingSystem.IsLinux() && FirstData(probe) == -1)
        {
            Assert.Equal(zerosEnd, FirstHole(segment)); // on disk, written blocks (not merely allocated ones) up to there
        }
        using var reopened = MemberStorage.Open(new RealFileSystem(), directory.Path, Identity, options);
        AssertSameEntries(written, reopened.Recovered.Entries);
    }

    [Fact]
    public void RealDisk_ZerosThatCannotBeWritten_LeaveTheRecordsAlone()
    {
        using var directory = new TemporaryDirectory("storage-test");
        var fileSystem = new RecordingFileSystem(new RealFileSystem(), zeroWriteDelay: TimeSpan.Zero);
        var options = Options(segmentSizeBytes: 8L * 1024 * 1024) with { PrepareSegmentsAhead = true };
        var written = Entries(1, 2000, dataBytes: 1000);
        using (var storage = MemberStorage.Open(fileSystem, directory.Path, Identity, options))
        {
            fileSystem.RefuseOpens = true; // from here on the log opens files only to write zeros ahead
            for (var i = 0; i < written.Count; i += 100)
            {
                storage.Append(new HardState(2, 1, (ulong)i), written.GetRange(i, 100));
                storage.Sync();
            }
            Assert.Equal(0, storage.Wal.Statistics.BytesZeroedAhead);
            Assert.True(fileSystem.OpensRefused > 0, "the log never tried to write zeros ahead");
        }
        using var reopened = MemberStorage.Open(new RealFileSystem(), directory.Path, Identity, options);
        AssertSameEntries(written, reopened.Recovered.Entries);
    }

    /// <summary>A real file system that records each write (its range, whether it was all zeros, when it began and ended) under the file's final name.</summary>
    private sealed class RecordingFileSystem(RealFileSystem inner, TimeSpan zeroWriteDelay) : DelegatingFileSystem(inner)
    {
        private readonly List<(string Path, Write Write)> _writes = [];
        private long _clock;
        private int _opensRefused;

        public sealed record Write(long Offset, int Length, bool Zeros, long Started, long Finished);

        public bool RefuseOpens { get; set; }

        private TimeSpan ZeroWriteDelay => zeroWriteDelay;

        public int OpensRefused => Volatile.Read(ref _opensRefused);

        public IReadOnlyList<Write> Writes(string path)
        {
            lock (_writes)
            {
                return _writes.Where(w => w.Path == path).Select(w => w.Write).ToList();
            }
        }

        public override IStorageFile OpenFile(string path, bool writable)
        {
            if (RefuseOpens)
            {
                Interlocked.Increment(ref _opensRefused);
                throw new IOException($"refused to open {path}");
            }
            return base.OpenFile(path, writable);
        }

        protected override IStorageFile Wrap(IStorageFile file) => new File(this, file);

        private sealed class File(RecordingFileSystem owner, IStorageFile file) : DelegatingStorageFile(file)
        {
            public override void Write(long offset, ReadOnlySpan<byte> data)
            {
                var zeros = data.Length > 0 && !data.ContainsAnyExcept((byte)0);
                var started = Interlocked.Increment(ref owner._clock);
                if (zeros && owner.ZeroWriteDelay > TimeSpan.Zero)
                {
                    Thread.Sleep(owner.ZeroWriteDelay);
                }
                base.Write(offset, data);
                var finished = Interlocked.Increment(ref owner._clock);
                lock (owner._writes)
                {
                    // a segment is written first under its temporary name, then renamed: one file either way
                    owner._writes.Add((Path.Replace(StorageFormat.TemporaryExtension, "", StringComparison.Ordinal), new Write(offset, data.Length, zeros, started, finished)));
                }
            }
        }
    }

    [Fact]
    public void CreateZeroedFile_WritesTheZerosOfItsFirstBytes_AndOnlyAllocatesTheRest()
    {
        using var directory = new TemporaryDirectory("storage-test");
        Directory.CreateDirectory(directory.Path);
        var fileSystem = new RealFileSystem();
        const long Length = 3 * 1024 * 1024 + 24;
        const long Zeroed = 1024 * 1024 + 8;
        var allocated = Path.Combine(directory.Path, "allocated");
        var zeroed = Path.Combine(directory.Path, "zeroed");
        fileSystem.CreateFile(allocated, Length).Dispose();
        using (var file = fileSystem.CreateZeroedFile(zeroed, Length, Zeroed))
        {
            Assert.Equal(Length, file.Length);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => fileSystem.CreateZeroedFile(Path.Combine(directory.Path, "bad"), 100, 101));
        // Linux reports blocks that are allocated but never written as a hole (SEEK_DATA/SEEK_HOLE) on ext4 and xfs,
        // as long as no read has brought them into the page cache (so this comes before reading the file).
        if (OperatingSystem.IsLinux() && FirstData(allocated) == -1)
        {
            Assert.Equal(0, FirstData(zeroed));
            Assert.InRange(FirstHole(zeroed), Zeroed, Zeroed + 4095);
        }
        Assert.All(File.ReadAllBytes(zeroed), value => Assert.Equal(0, value));
    }

    private const int SeekData = 3;
    private const int SeekHole = 4;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static extern long LinuxSeek(int fileDescriptor, long offset, int whence);

    private static long FirstData(string path) => Seek(path, SeekData);

    private static long FirstHole(string path) => Seek(path, SeekHole);

    private static long Seek(string path, int whence)
    {
        using var handle = File.OpenHandle(path);
        return LinuxSeek((int)handle.DangerousGetHandle(), 0, whence);
    }

    [Fact]
    public void RealDisk_CorruptRecord_StopsStartup_NamingFileAndOffset()
    {
        using var directory = new TemporaryDirectory("storage-test");
        var fileSystem = new RealFileSystem();
        var options = Options(segmentSizeBytes: 128 * 1024);
        using (var storage = MemberStorage.Open(fileSystem, directory.Path, Identity, options))
        {
            for (ulong first = 1; first < 100; first += 10)
            {
                storage.Append(new HardState(1, 1, first), Entries(first, first + 9));
                storage.Sync();
            }
        }
        var segment = Path.Combine(directory.Path, "wal", StorageFormat.SegmentFileName(0));
        using (var stream = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = 200;
            var value = stream.ReadByte();
            stream.Position = 200;
            stream.WriteByte((byte)(value ^ 0x10));
        }
        var error = Assert.Throws<StorageCorruptionException>(() => MemberStorage.Open(fileSystem, directory.Path, Identity, options));
        Assert.Equal(segment, error.File);
        Assert.InRange(error.Offset, 0, 200);
    }

    public enum NewestSnapshot
    {
        Durable,
        NeverMarkedDurable,
        Damaged,
    }

    [Theory]
    [InlineData(NewestSnapshot.Durable)]
    [InlineData(NewestSnapshot.NeverMarkedDurable)]
    [InlineData(NewestSnapshot.Damaged)]
    public void RealDisk_SnapshotReadAlongsideTheWal_RecoversExactlyAsReadingInTurn(NewestSnapshot newest)
    {
        using var directory = new TemporaryDirectory("storage-test");
        var fileSystem = new RealFileSystem();
        var options = Options(segmentSizeBytes: 128 * 1024);
        var older = new Snapshot(new SnapshotMetadata(40, 1, new ConfigState([1, 2, 3], [])), new byte[50_000]);
        var newer = new Snapshot(new SnapshotMetadata(80, 1, new ConfigState([1, 2, 3], [])), Enumerable.Range(0, 90_000).Select(i => (byte)i).ToArray());
        using (var storage = MemberStorage.Open(fileSystem, directory.Path, Identity, options))
        {
            storage.Append(new HardState(1, 1, 100), Entries(1, 100));
            storage.Sync();
            storage.SaveSnapshot(older);
            if (newest == NewestSnapshot.NeverMarkedDurable)
            {
                storage.Snapshots.Save(newer); // as if the process died before the WAL recorded it
            }
            else
            {
                storage.SaveSnapshot(newer);
            }
        }
        var newerPath = Path.Combine(directory.Path, "snap", StorageFormat.SnapshotFileName(80, 1));
        if (newest == NewestSnapshot.Damaged)
        {
            using var file = File.Open(newerPath, FileMode.Open, FileAccess.ReadWrite);
            file.Position = file.Length / 2;
            var value = file.ReadByte();
            file.Position = file.Length / 2;
            file.WriteByte((byte)(value ^ 0x10));
        }
        Assert.True(File.Exists(newerPath));

        RecoveredState Recover(StorageOptions with)
        {
            using var storage = MemberStorage.Open(fileSystem, directory.Path, Identity, with);
            return storage.Recovered;
        }
        var inTurn = Recover(options);
        var alongside = Recover(options with { ReadSnapshotAlongsideWal = true });
        var expected = newest == NewestSnapshot.Durable ? newer : older;
        foreach (var recovered in new[] { inTurn, alongside })
        {
            Assert.Equal(expected.Metadata, recovered.Snapshot.Metadata);
            Assert.True(expected.Data.Span.SequenceEqual(recovered.Snapshot.Data.Span));
            AssertSameEntries(Entries(expected.Metadata.Index + 1, 100), recovered.Entries);
        }
        Assert.Equal(inTurn.Notes, alongside.Notes);
        var expectedNote = newest switch
        {
            NewestSnapshot.NeverMarkedDurable => "ignored",
            NewestSnapshot.Damaged => "skipped",
            _ => null,
        };
        if (expectedNote is null)
        {
            Assert.Empty(alongside.Notes);
        }
        else
        {
            Assert.Contains(alongside.Notes, note => note.Contains(expectedNote, StringComparison.Ordinal));
        }
    }
}
