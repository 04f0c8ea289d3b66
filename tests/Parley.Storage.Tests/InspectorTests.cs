using Parley.Raft;
using Parley.Storage;
using static Parley.Storage.Tests.StorageTestKit;

namespace Parley.Storage.Tests;

public class InspectorTests
{
    [Fact]
    public void Inspect_ListsSegmentsWithIndexRanges_AndSnapshots()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using (var storage = Open(fileSystem))
        {
            storage.Append(new HardState(2, 1, 0), Entries(1, 400, term: 2, dataBytes: 300));
            storage.Sync();
            storage.SaveSnapshot(new Snapshot(new SnapshotMetadata(100, 2, new ConfigState([1], [])), new byte[] { 1, 2, 3 }));
        }
        var report = WalInspector.Inspect(fileSystem, DataDirectory);
        Assert.True(report.Healthy, report.Problem);
        Assert.Equal(Identity, report.Identity);
        Assert.True(report.Segments.Count >= 2);
        Assert.Equal(1UL, report.Segments[0].FirstIndex);
        Assert.Equal(400UL, report.Segments.Where(s => s.Entries > 0).Max(s => s.LastIndex));
        Assert.Equal(400, report.Segments.Sum(s => s.Entries));
        Assert.All(report.Segments, s => Assert.Null(s.Damage));
        var snapshot = Assert.Single(report.Snapshots);
        Assert.Equal(100UL, snapshot.Index);
        Assert.True(snapshot.MarkedInWal);
        Assert.Null(snapshot.Problem);
    }

    [Fact]
    public void Records_ListEntriesInWrittenOrder_WithRewritesAndHardStateChanges()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        var removal = new ConfigChange(ConfigChangeType.RemoveNode, 3, ReadOnlyMemory<byte>.Empty).Encode();
        using (var storage = Open(fileSystem))
        {
            storage.Append(new HardState(1, 1, 0), Entries(1, 3));
            storage.Sync();
            storage.Append(new HardState(1, 1, 0), []); // unchanged: not listed
            storage.Append(new HardState(2, 2, 2), [new Entry(2, 3, EntryType.ConfigChange, removal)]); // index 3 written again
            storage.Sync();
        }
        var records = WalInspector.Records(fileSystem, DataDirectory);
        Assert.Equal(
            ["entry 1/1", "entry 2/1", "entry 3/1", "hard state 1/1/0", "entry 3/2", "hard state 2/2/2"],
            records.Select(record => record.Entry is { } entry ? $"entry {entry.Index}/{entry.Term}"
                : $"hard state {record.HardState!.Value.Term}/{record.HardState.Value.Vote}/{record.HardState.Value.Commit}"));
        var rewritten = records.Last(record => record.Entry is not null).Entry!.Value;
        Assert.Equal(EntryType.ConfigChange, rewritten.Type);
        Assert.Equal(3UL, ConfigChange.Decode(rewritten.Data.Span).NodeId);
    }

    [Fact]
    public void Inspect_ReportsCorruption_WithoutRepairingAnything()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using (var storage = Open(fileSystem))
        {
            for (ulong first = 1; first < 50; first += 10)
            {
                storage.Append(new HardState(1, 1, first), Entries(first, first + 9));
                storage.Sync();
            }
        }
        var segment = Segments(fileSystem)[0];
        fileSystem.FlipBit(segment, 200, 4);
        var report = WalInspector.Inspect(fileSystem, DataDirectory);
        Assert.False(report.Healthy);
        Assert.Contains(segment, report.Problem, StringComparison.Ordinal);
        Assert.NotNull(report.Segments[0].Damage);
        Assert.False(WalInspector.Inspect(fileSystem, DataDirectory).Healthy); // still there: inspect changed nothing
    }

    [Fact]
    public void SegmentRollover_CreatesUnderATemporaryName_AndSyncsTheDirectory()
    {
        var fileSystem = new SimulatedFileSystem(new Random(1));
        using var storage = Open(fileSystem);
        var directorySyncs = fileSystem.DirectorySyncCount;
        storage.Append(new HardState(1, 1, 0), Entries(1, 300, dataBytes: 300));
        storage.Sync();
        Assert.True(Segments(fileSystem).Count >= 2);
        Assert.True(fileSystem.DirectorySyncCount > directorySyncs);
        Assert.DoesNotContain(fileSystem.ListFiles(WalDirectory), name => name.EndsWith(StorageFormat.TemporaryExtension, StringComparison.Ordinal));
        var segmentsBeforeCrash = Segments(fileSystem);
        fileSystem.Crash();
        Assert.Equal(segmentsBeforeCrash, Segments(fileSystem)); // the renames were made durable
        using var reopened = Open(fileSystem);
        Assert.Equal(300UL, reopened.Recovered.LastIndex);
    }
}
