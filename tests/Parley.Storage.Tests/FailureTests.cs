using Parley.Raft;
using Parley.Storage;
using static Parley.Storage.Tests.StorageTestKit;

namespace Parley.Storage.Tests;

public class FailureTests
{
    [Fact]
    public void FailedFsync_IsFatal_AndTheLogRefusesAnyFurtherUse()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        var fatal = new List<string>();
        using var storage = Open(fileSystem, Options(fatalMessages: fatal));
        storage.Append(new HardState(1, 1, 0), Entries(1, 5));
        fileSystem.FailNextSyncs(1);
        Assert.Throws<StorageFatalException>(storage.Sync);
        Assert.Single(fatal);
        Assert.Contains("fdatasync", fatal[0], StringComparison.Ordinal);
        // No retry: the page cache may have dropped the data, so a second sync could lie.
        Assert.Throws<StorageFatalException>(storage.Sync);
        Assert.Throws<StorageFatalException>(() => storage.Append(HardState.Empty, Entries(6, 6)));
    }

    [Fact]
    public void FailedFsync_ThenRestart_RecoversOnlyWhatWasDurable()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1)) { TearProbability = 0 };
        using (var storage = Open(fileSystem, Options(fatalMessages: [])))
        {
            storage.Append(new HardState(1, 1, 0), Entries(1, 5));
            storage.Sync();
            storage.Append(new HardState(1, 1, 5), Entries(6, 10));
            fileSystem.FailNextSyncs(1);
            Assert.Throws<StorageFatalException>(storage.Sync);
        }
        fileSystem.Crash();
        using var reopened = Open(fileSystem);
        AssertSameEntries(Entries(1, 5), reopened.Recovered.Entries);
    }

    [Fact]
    public void DiskFull_WhenANewSegmentIsNeeded_GivesAClearError_WritesNothing_AndCanBeRetried()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1)) { TearProbability = 0 };
        using var storage = Open(fileSystem);
        storage.Append(new HardState(1, 1, 0), Entries(1, 100, dataBytes: 300));
        storage.Sync();
        fileSystem.CapacityBytes = fileSystem.UsedBytes + 1000; // no room for another 64 KiB segment
        storage.Append(new HardState(1, 1, 100), Entries(101, 400, dataBytes: 300));
        var error = Assert.Throws<StorageFullException>(storage.Sync);
        Assert.Contains("device is full", error.Message, StringComparison.Ordinal);
        Assert.Contains("free space", error.Message, StringComparison.Ordinal);
        Assert.True(storage.HasPendingWrites);

        fileSystem.CapacityBytes = long.MaxValue; // the operator freed space
        storage.Sync();
        fileSystem.Crash();
        using var reopened = Open(fileSystem);
        AssertSameEntries(Entries(1, 400, dataBytes: 300), reopened.Recovered.Entries);
    }

    [Fact]
    public void DiskFull_LeavesTheLogUncorrupted_AcrossACrash()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using (var storage = Open(fileSystem))
        {
            storage.Append(new HardState(1, 1, 0), Entries(1, 100, dataBytes: 300));
            storage.Sync();
            fileSystem.CapacityBytes = fileSystem.UsedBytes + 1000;
            storage.Append(new HardState(1, 1, 100), Entries(101, 400, dataBytes: 300));
            Assert.Throws<StorageFullException>(storage.Sync);
        }
        fileSystem.Crash();
        using var reopened = Open(fileSystem);
        AssertSameEntries(Entries(1, 100, dataBytes: 300), reopened.Recovered.Entries);
        Assert.Null(reopened.Recovered.Repair);
    }

    [Fact]
    public void DiskFull_WhileWritingASnapshot_LeavesNoPartialSnapshotBehind()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using var storage = Open(fileSystem);
        storage.Append(new HardState(1, 1, 0), Entries(1, 10));
        storage.Sync();
        fileSystem.CapacityBytes = fileSystem.UsedBytes + 10;
        var snapshot = new Snapshot(new SnapshotMetadata(10, 1, new ConfigState([1], [])), new byte[5000]);
        Assert.Throws<StorageFullException>(() => storage.SaveSnapshot(snapshot));
        Assert.Empty(fileSystem.ListFiles(SnapshotDirectory));
    }
}
