using Parley.Raft;
using Parley.Storage;
using static Parley.Storage.Tests.StorageTestKit;

namespace Parley.Storage.Tests;

public class WriteAheadLogTests
{
    [Fact]
    public void Open_OfAnEmptyDirectory_StartsFresh()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using var storage = Open(fileSystem);
        Assert.True(storage.Recovered.CreatedFresh);
        Assert.Empty(storage.Recovered.Entries);
        Assert.True(storage.Recovered.HardState.IsEmpty);
        Assert.Single(Segments(fileSystem));
    }

    [Fact]
    public void Reopen_ReplaysEntriesAndHardState_AfterACrash()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        var entries = Entries(1, 50);
        using (var storage = Open(fileSystem))
        {
            storage.Append(new HardState(3, 2, 40), entries);
            storage.Sync();
        }
        fileSystem.Crash();
        using var reopened = Open(fileSystem);
        Assert.False(reopened.Recovered.CreatedFresh);
        Assert.Equal(new HardState(3, 2, 40), reopened.Recovered.HardState);
        AssertSameEntries(entries, reopened.Recovered.Entries);
        Assert.Null(reopened.Recovered.Repair);
    }

    [Fact]
    public void Sync_IssuesOneFdatasync_ForABatchOfManyEntries()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using var storage = Open(fileSystem, Options(segmentSizeBytes: 1024 * 1024));
        var syncsBefore = fileSystem.FileSyncCount;
        storage.Append(new HardState(1, 1, 0), Entries(1, 500));
        storage.Sync();
        Assert.Equal(1, fileSystem.FileSyncCount - syncsBefore);
    }

    [Fact]
    public void Sync_DoesNothing_WhenNothingWasAppended()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using var storage = Open(fileSystem);
        var syncsBefore = fileSystem.FileSyncCount;
        storage.Sync();
        storage.Append(HardState.Empty, []);
        storage.Sync();
        Assert.Equal(syncsBefore, fileSystem.FileSyncCount);
    }

    [Fact]
    public void Append_OfAnUnchangedHardState_WritesNothing()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using var storage = Open(fileSystem);
        storage.Append(new HardState(1, 1, 0), []);
        storage.Sync();
        storage.Append(new HardState(1, 1, 0), []);
        Assert.False(storage.HasPendingWrites);
    }

    [Fact]
    public void Log_RollsOverIntoNewSegments_AndReplaysAcrossThem()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        var entries = Entries(1, 600, dataBytes: 300);
        using (var storage = Open(fileSystem))
        {
            for (var i = 0; i < entries.Count; i += 37)
            {
                storage.Append(new HardState(1, 1, (ulong)i), entries.GetRange(i, Math.Min(37, entries.Count - i)));
                storage.Sync();
            }
        }
        Assert.True(Segments(fileSystem).Count >= 3, $"expected several 64 KiB segments, got {Segments(fileSystem).Count}");
        fileSystem.Crash();
        using var reopened = Open(fileSystem);
        AssertSameEntries(entries, reopened.Recovered.Entries);
    }

    [Fact]
    public void ABatchLargerThanASegment_SpreadsOverSeveralSegments_InOneSync()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        var entries = Entries(1, 700, dataBytes: 300);
        using (var storage = Open(fileSystem))
        {
            storage.Append(new HardState(1, 1, 0), entries);
            storage.Sync();
        }
        fileSystem.Crash();
        using var reopened = Open(fileSystem);
        AssertSameEntries(entries, reopened.Recovered.Entries);
        Assert.True(Segments(fileSystem).Count >= 3);
    }

    [Fact]
    public void Replay_LetsLaterEntriesReplaceAConflictingSuffix()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using (var storage = Open(fileSystem))
        {
            storage.Append(new HardState(1, 0, 0), Entries(1, 10, term: 1));
            storage.Sync();
            // A new leader at term 2 overwrote this follower's entries from index 6 on.
            storage.Append(new HardState(2, 0, 5), Entries(6, 8, term: 2, salt: 1));
            storage.Sync();
        }
        fileSystem.Crash();
        using var reopened = Open(fileSystem);
        var expected = Entries(1, 5, term: 1);
        expected.AddRange(Entries(6, 8, term: 2, salt: 1));
        AssertSameEntries(expected, reopened.Recovered.Entries);
    }

    [Fact]
    public void Append_OfAnEntryTooBigForASegment_IsRefused()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using var storage = Open(fileSystem);
        var tooBig = new Entry(1, 1, EntryType.Normal, new byte[storage.Wal.EntryDataBytesMax + 1]);
        Assert.Throws<ArgumentException>(() => storage.Append(HardState.Empty, [tooBig]));
        storage.Append(HardState.Empty, [new Entry(1, 1, EntryType.Normal, new byte[storage.Wal.EntryDataBytesMax])]);
        storage.Sync();
    }

    [Fact]
    public void Appends_NotYetSynced_DisappearInACrash()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1)) { TearProbability = 0 };
        using (var storage = Open(fileSystem))
        {
            storage.Append(new HardState(1, 1, 0), Entries(1, 10));
            storage.Sync();
            storage.Append(new HardState(1, 1, 10), Entries(11, 20));
        }
        fileSystem.Crash();
        using var reopened = Open(fileSystem);
        AssertSameEntries(Entries(1, 10), reopened.Recovered.Entries);
        Assert.Equal(new HardState(1, 1, 0), reopened.Recovered.HardState);
    }
}
