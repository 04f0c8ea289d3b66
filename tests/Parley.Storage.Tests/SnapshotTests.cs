using System.Buffers;
using Parley.Raft;
using Parley.Storage;
using static Parley.Storage.Tests.StorageTestKit;

namespace Parley.Storage.Tests;

public class SnapshotTests
{
    private static Snapshot SnapshotAt(ulong index, ulong term = 1) =>
        new(new SnapshotMetadata(index, term, new ConfigState([1, 2, 3], [4])), System.Text.Encoding.UTF8.GetBytes($"state at {index}"));

    private static void AssertSameSnapshot(Snapshot expected, Snapshot actual)
    {
        Assert.Equal(expected.Metadata, actual.Metadata);
        Assert.True(expected.Data.Span.SequenceEqual(actual.Data.Span));
    }

    [Fact]
    public void StreamedSave_WritesTheSameFileAsAWholeSave_AndLoadsBack()
    {
        var data = new byte[(3 << 20) + 17];
        new Random(9).NextBytes(data);
        var whole = new Snapshot(new SnapshotMetadata(50, 2, new ConfigState([1, 2, 3], [])), data);
        var streamedSystem = new SimulatedFileSystem(new Random(4));
        using var streamed = Open(streamedSystem);
        var backed = streamed.WriteSnapshotFile(whole.Metadata, data.Length, output =>
        {
            for (var offset = 0; offset < data.Length; offset += 70_000)
            {
                output.Write(data.AsSpan(offset, Math.Min(70_000, data.Length - offset)));
            }
        });
        AssertSameSnapshot(whole, backed);
        var path = streamed.Snapshots.List()[0].Path;
        Assert.True(streamed.Snapshots.TryLoad(path, out var loaded, out var problem), problem);
        AssertSameSnapshot(whole, loaded);
        Assert.Equal(SnapshotFile.Encode(whole, Identity), ReadAll(streamedSystem, path));

        // A writer that announces one length and writes another is refused, and leaves no file behind.
        Assert.ThrowsAny<Exception>(() => streamed.WriteSnapshotFile(new SnapshotMetadata(60, 2, whole.Metadata.Config), 10, output => output.Write(new byte[11])));
        Assert.DoesNotContain(streamed.Snapshots.List(), snapshot => snapshot.Index == 60);
        Assert.DoesNotContain(streamedSystem.ListFiles(streamed.Snapshots.Directory), name => name.EndsWith(StorageFormat.TemporaryExtension, StringComparison.Ordinal));
    }

    [Fact]
    public void LargeSave_IsWrittenOutAsItIsWritten_NeverMoreThanTheLagAheadOfTheDisk()
    {
        var data = new byte[3 * SnapshotFileWriter.WriteBackLagBytes + 5]; // several waits
        new Random(11).NextBytes(data);
        var snapshot = new Snapshot(new SnapshotMetadata(70, 3, new ConfigState([1, 2, 3], [])), data);
        var fileSystem = new WriteBackRecorder(new SimulatedFileSystem(new Random(5)));
        using (var storage = Open(fileSystem))
        {
            storage.SaveSnapshot(snapshot);
            Assert.True(storage.Snapshots.TryLoad(storage.Snapshots.List()[0].Path, out var loaded, out var problem), problem);
            AssertSameSnapshot(snapshot, loaded);
        }
        var calls = fileSystem.Calls.Where(call => call.Path.Contains("snap", StringComparison.Ordinal)).ToList();
        long written = 0, started = 0, waited = 0;
        foreach (var call in calls)
        {
            switch (call.Kind)
            {
                case "write":
                    Assert.Equal(written, call.Offset); // in order, each byte once
                    written += call.Length;
                    // the writer runs at most the lag (and the buffer it is filling) ahead of what is on the disk
                    Assert.True(written - waited <= SnapshotFileWriter.WriteBackLagBytes + (1 << 20) + 4, $"{written - waited} bytes ahead of the disk");
                    break;
                case "start":
                    Assert.Equal(started, call.Offset); // every buffer is started on its way out as soon as it is written
                    Assert.Equal(written, call.Offset + call.Length);
                    started += call.Length;
                    break;
                case "wait":
                    Assert.Equal(waited, call.Offset);
                    Assert.True(call.Offset + call.Length <= started);
                    waited += call.Length;
                    break;
                case "sync":
                    Assert.Equal(written, started + 4); // all but the checksum's 4 bytes went out before the sync
                    break;
            }
        }
        Assert.True(written > data.Length);
        Assert.True(waited >= written - SnapshotFileWriter.WriteBackLagBytes - (1 << 20) - 4);
        Assert.Contains(calls, call => call.Kind == "sync");
    }

    [Fact]
    public void FailedWriteOut_FailsTheSave_AndLeavesNoFileBehind()
    {
        var data = new byte[2 * SnapshotFileWriter.WriteBackLagBytes + 5];
        var snapshot = new Snapshot(new SnapshotMetadata(80, 3, new ConfigState([1, 2, 3], [])), data);
        var fileSystem = new FailingWriteOut(new SimulatedFileSystem(new Random(6)));
        using var storage = Open(fileSystem);
        var failure = Assert.Throws<IOException>(() => storage.SaveSnapshot(snapshot));
        Assert.Contains("EIO", failure.Message, StringComparison.Ordinal);
        Assert.Empty(storage.Snapshots.List());
        Assert.DoesNotContain(fileSystem.Inner.ListFiles(storage.Snapshots.Directory), name => name.EndsWith(StorageFormat.TemporaryExtension, StringComparison.Ordinal));
    }

    /// <summary>Every waited write-out fails, as sync_file_range does when the device reports an error.</summary>
    private sealed class FailingWriteOut(SimulatedFileSystem inner) : DelegatingFileSystem(inner)
    {
        public SimulatedFileSystem Inner => inner;

        protected override IStorageFile Wrap(IStorageFile file) => new File(file);

        private sealed class File(IStorageFile inner) : DelegatingStorageFile(inner)
        {
            public override void WriteBack(long offset, long length, bool wait)
            {
                if (wait)
                {
                    throw new IOException($"writing out {length} bytes at offset {offset} of {Path} failed: errno 5 (EIO)");
                }
                base.WriteBack(offset, length, wait);
            }
        }
    }

    /// <summary>Records the writes, write-outs and syncs of every file, in order.</summary>
    private sealed class WriteBackRecorder(IFileSystem inner) : DelegatingFileSystem(inner)
    {
        public List<(string Kind, string Path, long Offset, long Length)> Calls { get; } = [];

        protected override IStorageFile Wrap(IStorageFile file) => new File(this, file);

        private sealed class File(WriteBackRecorder owner, IStorageFile inner) : DelegatingStorageFile(inner)
        {
            public override void Write(long offset, ReadOnlySpan<byte> data)
            {
                owner.Calls.Add(("write", Path, offset, data.Length));
                base.Write(offset, data);
            }

            public override void WriteBack(long offset, long length, bool wait)
            {
                owner.Calls.Add((wait ? "wait" : "start", Path, offset, length));
                base.WriteBack(offset, length, wait);
            }

            public override void Sync()
            {
                owner.Calls.Add(("sync", Path, 0, 0));
                base.Sync();
            }
        }
    }

    private static byte[] ReadAll(IFileSystem fileSystem, string path)
    {
        using var file = fileSystem.OpenFile(path, writable: false);
        var content = new byte[file.Length];
        Assert.Equal(content.Length, file.Read(0, content));
        return content;
    }

    [Fact]
    public void FileBacked_ReadsTheFileOnlyWhenTheDataIsRead_AndRefusesAFileDamagedSince()
    {
        var fileSystem = new SimulatedFileSystem(new Random(3));
        using var storage = Open(fileSystem);
        var original = SnapshotAt(40);
        storage.SaveSnapshot(original);
        var backed = storage.FileBacked(original);
        Assert.Equal(original.Metadata, backed.Metadata);
        Assert.Equal(original.Data.Length, backed.Data.Length); // known without reading
        AssertSameSnapshot(original, backed);
        using (var pinned = backed.Data.Pin())
        {
            Assert.True(backed.Data.Span.SequenceEqual(original.Data.Span));
        }

        var damaged = storage.FileBacked(original); // not read yet
        var path = storage.Snapshots.List()[0].Path;
        fileSystem.FlipBit(path, 70, 2);
        var exception = Assert.Throws<StorageCorruptionException>(() => damaged.Data.Span.ToArray());
        Assert.Contains(path, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SaveSnapshot_ReleasesTheSegmentsItCovers_AndRecoveryStartsFromIt()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        var written = Entries(1, 800, dataBytes: 300);
        using (var storage = Open(fileSystem))
        {
            for (var i = 0; i < written.Count; i += 50)
            {
                storage.Append(new HardState(1, 1, (ulong)i), written.GetRange(i, 50));
                storage.Sync();
            }
            var segmentsBefore = Segments(fileSystem).Count;
            storage.SaveSnapshot(SnapshotAt(700));
            Assert.True(Segments(fileSystem).Count < segmentsBefore, "no segment was released");
        }
        fileSystem.Crash();
        using var reopened = Open(fileSystem);
        AssertSameSnapshot(SnapshotAt(700), reopened.Recovered.Snapshot);
        AssertSameEntries(written.GetRange(700, 100), reopened.Recovered.Entries);
        Assert.Equal(new HardState(1, 1, 750), reopened.Recovered.HardState);
    }

    [Fact]
    public void ReleasedSegments_NeverTakeTheNewestHardStateWithThem()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using (var storage = Open(fileSystem))
        {
            storage.Append(new HardState(7, 3, 600), Entries(1, 600, dataBytes: 300));
            storage.Sync();
            // Only entries from now on: the hard state lives in an old segment (and in each newer segment's prologue).
            for (ulong first = 601; first < 1200; first += 100)
            {
                storage.Append(HardState.Empty, Entries(first, first + 99, dataBytes: 300));
                storage.Sync();
            }
            storage.SaveSnapshot(SnapshotAt(1150));
        }
        fileSystem.Crash();
        using var reopened = Open(fileSystem);
        Assert.Equal(new HardState(7, 3, 600), reopened.Recovered.HardState);
        Assert.Equal(1200UL, reopened.Recovered.LastIndex);
    }

    [Fact]
    public void SaveSnapshot_KeepsOnlyTheNewestFewFiles()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using var storage = Open(fileSystem);
        storage.Append(new HardState(1, 1, 0), Entries(1, 50));
        storage.Sync();
        for (ulong index = 10; index <= 50; index += 10)
        {
            storage.SaveSnapshot(SnapshotAt(index));
        }
        var kept = storage.Snapshots.List().Select(s => s.Index).ToList();
        Assert.Equal([50UL, 40UL], kept);
    }

    [Fact]
    public void Recovery_FallsBackToAnOlderSnapshot_WhenTheNewestFailsItsChecksum()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using (var storage = Open(fileSystem, Options(segmentSizeBytes: 1024 * 1024)))
        {
            storage.Append(new HardState(1, 1, 0), Entries(1, 50));
            storage.Sync();
            storage.SaveSnapshot(SnapshotAt(20));
            storage.SaveSnapshot(SnapshotAt(40));
        }
        var newest = SnapshotDirectory + "/" + StorageFormat.SnapshotFileName(40, 1);
        fileSystem.FlipBit(newest, 70, 5);
        using var reopened = Open(fileSystem, Options(segmentSizeBytes: 1024 * 1024));
        AssertSameSnapshot(SnapshotAt(20), reopened.Recovered.Snapshot);
        AssertSameEntries(Entries(21, 50), reopened.Recovered.Entries);
        Assert.Contains(reopened.Recovered.Notes, note => note.Contains("checksum mismatch", StringComparison.Ordinal));
    }

    [Fact]
    public void Recovery_RefusesToStart_WhenTheOnlySnapshotIsCorrupt_AndTheLogNoLongerCoversItsPrefix()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using (var storage = Open(fileSystem))
        {
            storage.Append(new HardState(1, 1, 0), Entries(1, 800, dataBytes: 300));
            storage.Sync();
            storage.Append(HardState.Empty, Entries(801, 810, dataBytes: 300));
            storage.Sync();
            storage.SaveSnapshot(SnapshotAt(800));
        }
        foreach (var (_, _, path) in new SnapshotStore(fileSystem, SnapshotDirectory, Identity, Options()).List())
        {
            fileSystem.FlipBit(path, 60, 0);
        }
        var error = Assert.Throws<StorageCorruptionException>(() => Open(fileSystem));
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
    }

    // Found by the node-mode simulator (seed 200508 of `parley sim --mode node --nodes 5`): a follower installed a
    // leader's snapshot far ahead of its log, the file later failed its checksum, and recovery fell back to an older
    // snapshot whose log ended well before it, silently forgetting state the member had acknowledged.
    [Fact]
    public void Recovery_RefusesToStart_WhenAnInstalledSnapshotIsCorrupt_AndTheOlderSnapshotsLogFallsShortOfIt()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using (var storage = Open(fileSystem))
        {
            storage.Append(new HardState(1, 1, 8), Entries(1, 10));
            storage.Sync();
            storage.SaveSnapshot(SnapshotAt(8));
            storage.SaveSnapshot(SnapshotAt(500, term: 4));
            storage.Append(new HardState(4, 2, 500), []);
            storage.Sync();
        }
        fileSystem.FlipBit(SnapshotDirectory + "/" + StorageFormat.SnapshotFileName(500, 4), 70, 5);
        var error = Assert.Throws<StorageCorruptionException>(() => Open(fileSystem));
        Assert.Contains("short of its index 500", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Recovery_IgnoresASnapshotFile_ThatTheLogNeverRecordedAsDurable()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using (var storage = Open(fileSystem))
        {
            storage.Append(new HardState(1, 1, 0), Entries(1, 30));
            storage.Sync();
            storage.Snapshots.Save(SnapshotAt(30)); // the crash came before the WAL marker
        }
        fileSystem.Crash();
        using var reopened = Open(fileSystem);
        Assert.True(reopened.Recovered.Snapshot.IsEmpty);
        AssertSameEntries(Entries(1, 30), reopened.Recovered.Entries);
        Assert.Contains(reopened.Recovered.Notes, note => note.Contains("ignored", StringComparison.Ordinal));
    }

    [Fact]
    public void SnapshotFile_RejectsEveryBitFlip()
    {
        var content = SnapshotFile.Encode(SnapshotAt(5), Identity);
        for (var bit = 0; bit < content.Length * 8; bit++)
        {
            content[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(SnapshotFile.TryDecode(content, Identity, out _, out _), $"flip of bit {bit} passed");
            content[bit / 8] ^= (byte)(1 << (bit % 8));
        }
        Assert.True(SnapshotFile.TryDecode(content, Identity, out var decoded, out _));
        AssertSameSnapshot(SnapshotAt(5), decoded);
    }

    [Fact]
    public void InstalledSnapshot_AheadOfTheLog_IsTheStartingPointAfterRestart()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using (var storage = Open(fileSystem))
        {
            storage.Append(new HardState(1, 1, 0), Entries(1, 10));
            storage.Sync();
            // A leader sent a snapshot far ahead; entries continue after it.
            storage.SaveSnapshot(SnapshotAt(500, term: 4));
            storage.Append(new HardState(4, 2, 500), Entries(501, 520, term: 4));
            storage.Sync();
        }
        fileSystem.Crash();
        using var reopened = Open(fileSystem);
        AssertSameSnapshot(SnapshotAt(500, term: 4), reopened.Recovered.Snapshot);
        AssertSameEntries(Entries(501, 520, term: 4), reopened.Recovered.Entries);
    }
}
