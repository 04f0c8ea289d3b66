using BenchmarkDotNet.Attributes;
using Parley.Raft;
using Parley.Storage;

namespace Parley.Benchmarks;

/// <summary>
/// The WAL's append path, as a node loop uses it once per Ready: frame a batch of entries (256 B payloads) and a hard
/// state, then one write and one sync. On <c>memory</c> (the simulator's file system: framing, CRC-32C and the copy, no
/// device) it is the log's own CPU cost; on <c>disk</c> (a directory under the temp folder, fdatasync) the device's
/// sync dominates, and figures vary with the VM far more than between builds. Segments the log has moved past are
/// released as a member does after a snapshot, so memory and disk use stay flat.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class WalAppendBenchmarks
{
    private const int PayloadBytes = 256;
    private const int ReleaseEveryBatches = 1_024;

    private MemberStorage? _storage;
    private string? _directory;
    private Entry[] _entries = [];
    private ulong _commit;
    private int _batches;

    [Params(1, 64)]
    public int Entries { get; set; }

    [Params("memory", "disk")]
    public string Device { get; set; } = "memory";

    [GlobalSetup]
    public void Open()
    {
        var random = new Random(MvccWorkload.Seed);
        _entries = [.. Enumerable.Range(1, Entries).Select(index =>
        {
            var data = new byte[PayloadBytes];
            random.NextBytes(data);
            return new Entry(1, (ulong)index, EntryType.Normal, data);
        })];
        IFileSystem fileSystem;
        if (Device == "disk")
        {
            _directory = Path.Combine(Path.GetTempPath(), "parley-wal-bench-" + Environment.ProcessId);
            fileSystem = new RealFileSystem();
        }
        else
        {
            _directory = "/wal-bench";
            fileSystem = new SimulatedFileSystem(new Random(MvccWorkload.Seed));
        }
        _storage = MemberStorage.Open(fileSystem, _directory, new StorageIdentity(1, 1),
            new StorageOptions { SegmentSizeBytes = 8L << 20, PrepareSegmentsAhead = Device == "disk" });
    }

    [GlobalCleanup]
    public void Close()
    {
        _storage?.Dispose();
        if (Device == "disk" && _directory is not null && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    /// <summary>The same indexes each time: to the log a later batch replaces the earlier one, which costs it nothing more.</summary>
    [Benchmark]
    public long AppendAndSync()
    {
        var storage = _storage!;
        storage.Append(new HardState(1, 1, ++_commit), _entries);
        storage.Sync();
        if (++_batches % ReleaseEveryBatches == 0)
        {
            storage.Wal.AppendSnapshotMarker((ulong)Entries, 1);
            storage.Sync();
            storage.Wal.ReleaseBefore((ulong)Entries);
        }
        return storage.Wal.Statistics.BytesWritten;
    }
}
