using Parley.Raft;
using Parley.Storage;
using static Parley.Storage.Tests.StorageTestKit;

namespace Parley.Storage.Tests;

/// <summary>A batch taken by BeginSync is written and synced apart from the log's thread (ADR 0005).</summary>
public class WalBatchTests
{
    [Fact]
    public void AppendsWhileABatchIsInFlight_FormTheNextBatch_AndOnlyWhatWasSyncedSurvivesACrash()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1)) { TearProbability = 0 };
        using (var storage = Open(fileSystem))
        {
            storage.Append(new HardState(1, 1, 0), Entries(1, 20));
            var batch = storage.Wal.BeginSync()!;
            Assert.True(storage.Wal.SyncInFlight);
            Assert.False(storage.HasPendingWrites);
            storage.Append(new HardState(1, 1, 20), Entries(21, 30)); // framed after the batch, not written
            Assert.Throws<InvariantViolationException>(() => storage.Wal.BeginSync()); // one batch in flight at a time

            var syncsBefore = fileSystem.FileSyncCount;
            batch.Run();
            Assert.Equal(syncsBefore + 1, fileSystem.FileSyncCount);
            batch.Run(); // once only
            Assert.Equal(syncsBefore + 1, fileSystem.FileSyncCount);
            storage.Wal.EndSync(batch);
            storage.Wal.EndSync(batch); // a second report is ignored
            Assert.False(storage.Wal.SyncInFlight);
            Assert.True(storage.HasPendingWrites);
        }
        fileSystem.Crash();
        using (var reopened = Open(fileSystem))
        {
            AssertSameEntries(Entries(1, 20), reopened.Recovered.Entries);
            Assert.Equal(new HardState(1, 1, 0), reopened.Recovered.HardState);
            reopened.Append(new HardState(1, 1, 20), Entries(21, 30));
            reopened.Sync();
        }
        fileSystem.Crash();
        using var again = Open(fileSystem);
        AssertSameEntries(Entries(1, 30), again.Recovered.Entries);
    }

    [Fact]
    public void ManyBatchesAcrossSegmentRollovers_RecoverEveryEntry()
    {
        var fileSystem = new SimulatedFileSystem(new Random(2));
        var entries = Entries(1, 900, dataBytes: 300);
        using (var storage = Open(fileSystem))
        {
            WalBatch? inFlight = null;
            for (var i = 0; i < entries.Count; i += 23)
            {
                var slice = entries.Skip(i).Take(23).ToList();
                storage.Append(new HardState(1, 1, slice[^1].Index), slice);
                if (inFlight is not null && i % 2 == 0)
                {
                    inFlight.Run();
                    storage.Wal.EndSync(inFlight);
                    inFlight = null;
                }
                inFlight ??= storage.Wal.BeginSync();
            }
            storage.Sync(); // finishes the batch in flight first, then syncs the rest
            Assert.False(storage.Wal.SyncInFlight);
            Assert.True(storage.Wal.SegmentCount > 3);
        }
        fileSystem.Crash();
        using var reopened = Open(fileSystem);
        AssertSameEntries(entries, reopened.Recovered.Entries);
        Assert.Null(reopened.Recovered.Repair);
    }

    [Fact]
    public void Dispose_DropsABatchNotStarted()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1)) { TearProbability = 0 };
        using (var storage = Open(fileSystem))
        {
            storage.Append(new HardState(1, 1, 0), Entries(1, 5));
            storage.Sync();
            storage.Append(new HardState(1, 1, 5), Entries(6, 10));
            var batch = storage.Wal.BeginSync()!;
            storage.Dispose();
            var syncs = fileSystem.FileSyncCount;
            batch.Run(); // a syncer thread that comes to it late writes nothing
            Assert.Equal(syncs, fileSystem.FileSyncCount);
        }
        fileSystem.Crash();
        using var reopened = Open(fileSystem);
        AssertSameEntries(Entries(1, 5), reopened.Recovered.Entries);
    }

    [Fact]
    public void AFailedBatch_IsFatal_WhenItEnds()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        var fatal = new List<string>();
        using var storage = Open(fileSystem, Options(fatalMessages: fatal));
        storage.Append(new HardState(1, 1, 0), Entries(1, 5));
        var batch = storage.Wal.BeginSync()!;
        fileSystem.FailNextSyncs(1);
        batch.Run(); // no throw on the syncer's thread
        Assert.Empty(fatal);
        Assert.Throws<StorageFatalException>(() => storage.Wal.EndSync(batch));
        Assert.Single(fatal);
        Assert.Contains("fdatasync", fatal[0], StringComparison.Ordinal);
        Assert.Throws<StorageFatalException>(() => storage.Append(HardState.Empty, Entries(6, 6)));
    }
}
