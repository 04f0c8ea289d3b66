using Parley.Raft;
using Parley.Storage;
using static Parley.Storage.Tests.StorageTestKit;

namespace Parley.Storage.Tests;

public class RecoveryTests
{
    /// <summary>Entries 1..10 synced; entries 11..30 written but the power fails before their fdatasync.</summary>
    private static SimulatedFileSystem WithUnsyncedBatch(int seed)
    {
        var fileSystem = new SimulatedFileSystem(new Random(seed));
        var powerCut = new PowerCutFileSystem(fileSystem) { CutOnlySyncs = true };
        var storage = Open(powerCut);
        storage.Append(new HardState(1, 1, 0), Entries(1, 10));
        storage.Sync();
        storage.Append(new HardState(1, 1, 10), Entries(11, 30));
        powerCut.OperationsBeforeCut = 0;
        Assert.Throws<PowerCutException>(storage.Sync);
        return fileSystem;
    }

    private static void AssertPrefixOf(List<Entry> written, IReadOnlyList<Entry> recovered, int atLeast)
    {
        Assert.InRange(recovered.Count, atLeast, written.Count);
        AssertSameEntries(written.GetRange(0, recovered.Count), recovered);
    }

    [Fact]
    public void Recovery_TruncatesTornTail_InLastSegment()
    {
        var written = Entries(1, 30);
        var repairs = 0;
        for (var keptSectors = 0; keptSectors <= 6; keptSectors++)
        {
            var fileSystem = WithUnsyncedBatch(1);
            fileSystem.Crash((sector, _) => sector < keptSectors);
            using var storage = Open(fileSystem);
            AssertPrefixOf(written, storage.Recovered.Entries, atLeast: 10);
            if (storage.Recovered.Repair is { } repair)
            {
                repairs++;
                Assert.Equal(Segments(fileSystem)[^1], repair.File);
                Assert.Contains(storage.Recovered.Notes, note => note.Contains("torn write truncated", StringComparison.Ordinal));
            }
        }
        Assert.True(repairs >= 4, $"only {repairs} of 7 tears cut a record in half");
    }

    [Fact]
    public void Recovery_TruncatesTornTail_WhenLaterSectorsOfTheSameWriteSurvivedAndEarlierOnesDidNot()
    {
        var written = Entries(1, 30);
        var droppedCompleteRecords = 0;
        for (var seed = 0; seed < 60; seed++)
        {
            var fileSystem = WithUnsyncedBatch(seed);
            var random = new Random(seed);
            fileSystem.Crash((_, _) => random.Next(2) == 0);
            using var storage = Open(fileSystem);
            AssertPrefixOf(written, storage.Recovered.Entries, atLeast: 10);
            droppedCompleteRecords += storage.Recovered.Repair?.RecordsDropped ?? 0;
        }
        Assert.True(droppedCompleteRecords > 0, "no tear left a complete record after a damaged one");
    }

    [Fact]
    public void Recovery_AfterTruncatingATornTail_AppendsAndRecoversCleanly()
    {
        var fileSystem = WithUnsyncedBatch(1);
        fileSystem.Crash((sector, _) => sector < 2);
        ulong last;
        using (var storage = Open(fileSystem))
        {
            Assert.NotNull(storage.Recovered.Repair);
            last = storage.Recovered.LastIndex;
            storage.Append(new HardState(2, 1, last), Entries(last + 1, last + 40, term: 2));
            storage.Sync();
        }
        fileSystem.Crash();
        using var reopened = Open(fileSystem);
        Assert.Null(reopened.Recovered.Repair);
        Assert.Equal(last + 40, reopened.Recovered.LastIndex);
        AssertSameEntries(Entries(last + 1, last + 40, term: 2), reopened.Recovered.Entries.Skip((int)last).ToList());
    }

    private static SimulatedFileSystem WithThreeSegments(out List<Entry> written)
    {
        var fileSystem = new SimulatedFileSystem(new Random(3));
        written = Entries(1, 600, dataBytes: 300);
        using var storage = Open(fileSystem);
        for (var i = 0; i < written.Count; i += 50)
        {
            storage.Append(new HardState(1, 1, (ulong)i), written.GetRange(i, 50));
            storage.Sync();
        }
        Assert.True(Segments(fileSystem).Count >= 3);
        return fileSystem;
    }

    private static WalSegmentScan Scan(IFileSystem fileSystem, string path)
    {
        StorageFormat.TryParseSegmentFileName(Path.GetFileName(path), out var sequence);
        return WalSegmentScan.Read(fileSystem, path, sequence, Identity);
    }

    [Fact]
    public void Recovery_RefusesCorruptRecord_InMiddleSegment_NamingFileAndOffset()
    {
        var fileSystem = WithThreeSegments(out _);
        var middle = Segments(fileSystem)[1];
        var record = Scan(fileSystem, middle).Records.First(r => r.Type == WalRecordType.Entry);
        fileSystem.FlipBit(middle, record.Offset + 40, 3);

        var error = Assert.Throws<StorageCorruptionException>(() => Open(fileSystem));
        Assert.Equal(middle, error.File);
        Assert.Equal(record.Offset, error.Offset);
        Assert.Contains(middle, error.Message, StringComparison.Ordinal);
        Assert.Contains($"offset {record.Offset}", error.Message, StringComparison.Ordinal);
        Assert.Contains("member remove", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Recovery_RefusesCorruptRecord_EarlyInTheLastSegment_BecauseLaterSyncsFollowIt()
    {
        var fileSystem = WithThreeSegments(out _);
        using (var storage = Open(fileSystem))
        {
            for (ulong first = 601; first < 631; first += 10)
            {
                storage.Append(new HardState(1, 1, first), Entries(first, first + 9));
                storage.Sync();
            }
        }
        var last = Segments(fileSystem)[^1];
        var record = Scan(fileSystem, last).Records.First(r => r.Type == WalRecordType.Entry);
        fileSystem.FlipBit(last, record.Offset + 20, 0);
        var error = Assert.Throws<StorageCorruptionException>(() => Open(fileSystem));
        Assert.Equal(record.Offset, error.Offset);
        Assert.True(error.Message.Contains("later sync", StringComparison.Ordinal), error.Message);
    }

    [Fact]
    public void Recovery_RefusesABitFlip_InTheLastEntryOfTheLog_RatherThanTakeItForATornWrite()
    {
        var fileSystem = WithThreeSegments(out _);
        var last = Segments(fileSystem)[^1];
        var record = Scan(fileSystem, last).Records.Last(r => r.Type == WalRecordType.Entry);
        fileSystem.FlipBit(last, record.Offset + 100, 6);
        var error = Assert.Throws<StorageCorruptionException>(() => Open(fileSystem));
        Assert.Equal(record.Offset, error.Offset);
    }

    [Fact]
    public void Recovery_RefusesADamagedSegmentHeader()
    {
        var fileSystem = WithThreeSegments(out _);
        var middle = Segments(fileSystem)[1];
        fileSystem.FlipBit(middle, 30, 1);
        var error = Assert.Throws<StorageCorruptionException>(() => Open(fileSystem));
        Assert.Equal(middle, error.File);
        Assert.Equal(0, error.Offset);
    }

    [Fact]
    public void Recovery_RefusesALog_WithAMissingMiddleSegment()
    {
        var fileSystem = WithThreeSegments(out _);
        var middle = Segments(fileSystem)[1];
        fileSystem.DeleteFile(middle);
        var error = Assert.Throws<StorageCorruptionException>(() => Open(fileSystem));
        Assert.Contains(Path.GetFileName(middle), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Recovery_ClearsStrayBitsAfterTheEndOfTheLog_AndKeepsEveryEntry()
    {
        var fileSystem = WithThreeSegments(out var written);
        var last = Segments(fileSystem)[^1];
        var scan = Scan(fileSystem, last);
        fileSystem.FlipBit(last, scan.DataEnd + 5000, 2);
        using (var storage = Open(fileSystem))
        {
            AssertSameEntries(written, storage.Recovered.Entries);
            Assert.NotNull(storage.Recovered.Repair);
        }
        Assert.Null(Scan(fileSystem, last).Damage);
    }

    [Fact]
    public void BitFlips_AnywhereInWrittenRecords_AreCaught_AndCorruptDataIsNeverServed()
    {
        var refused = 0;
        const int Trials = 300;
        for (var seed = 0; seed < Trials; seed++)
        {
            var fileSystem = WithThreeSegments(out var written);
            var random = new Random(seed);
            var segments = Segments(fileSystem);
            var target = segments[random.Next(segments.Count)];
            var dataEnd = Scan(fileSystem, target).DataEnd;
            var offset = random.NextInt64(0, dataEnd);
            fileSystem.FlipBit(target, offset, random.Next(8));
            try
            {
                using var storage = Open(fileSystem);
                // Only a flip in the closing sync mark of the very last write may pass as a torn write: no data in it.
                AssertSameEntries(written, storage.Recovered.Entries);
                Assert.Equal(new HardState(1, 1, 550), storage.Recovered.HardState);
            }
            catch (StorageCorruptionException)
            {
                refused++;
            }
        }
        Assert.True(refused >= Trials * 95 / 100, $"only {refused} of {Trials} flips refused");
    }
}
