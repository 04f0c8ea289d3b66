using System.Text;
using Parley.Mvcc;
using Parley.Raft;
using Parley.Storage;

namespace Parley.Node.Tests;

/// <summary>
/// Periodic snapshots are written by a worker while the node goes on: the node keeps applying writes meanwhile, the
/// file holds the state at the capture, the WAL is released only once the file is durable, a restart at any point
/// loses nothing, and a write that fails stops the node with the error as thrown.
/// </summary>
public sealed class BackgroundSnapshotTests : IDisposable
{
    private static readonly StorageOptions SmallSegments = new() { SegmentSizeBytes = 64 * 1024 };
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "parley-bgsnap-" + Guid.NewGuid().ToString("N"));
    private readonly StorageIdentity _identity = new(77, 1);

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void NodeAppliesWritesWhileTheSnapshotIsWrittenOnAnotherThread_AndARestartKeepsEverything()
    {
        var storage = MemberStorage.Open(new RealFileSystem(), _directory, _identity, SmallSegments);
        var worker = new DeferredWorker();
        var node = StartSingleMember(storage, worker, snapshotEvery: 500);
        var appliedBeforePuts = node.GetStatus().AppliedIndex;
        Put(node, 0, 600); // crosses 500: one snapshot captured, nothing written yet
        var job = Assert.Single(worker.Pending);
        Assert.Empty(storage.Snapshots.List());
        Assert.Equal(0ul, storage.Wal.SnapshotMarkerIndex);
        var segmentsBefore = storage.Wal.SegmentCount;

        // The worker writes on its own thread while the node applies 1,800 more writes (300 of them overwrites).
        var writer = new Thread(() => job.Work());
        writer.Start();
        Put(node, 300, 1_800);
        writer.Join();
        Assert.Single(worker.Pending); // one at a time: no second capture while the first is in flight
        Assert.Single(storage.Snapshots.List()); // the file, not yet a recovery point
        Assert.Equal(0ul, storage.Wal.SnapshotMarkerIndex);

        job.Finished(null); // back on the node's thread
        worker.Pending.Clear();
        var marker = storage.Wal.SnapshotMarkerIndex;
        Assert.InRange(marker, 500ul, 520ul);
        Assert.True(storage.Wal.SegmentCount < segmentsBefore + 10);
        Assert.True(storage.Snapshots.TryLoad(storage.Snapshots.List()[0].Path, out var saved, out var problem), problem);
        var atCapture = Assert.IsType<MvccStore>(MvccStore.Restore(saved.Data.Span).Value);
        // The state at the capture: one key per put applied by then; none of the later writes.
        Assert.Equal((long)(marker - appliedBeforePuts), atCapture.KeyCount);
        Assert.Equal(atCapture.KeyCount + 1, atCapture.Revision);

        var revision = node.Store.Revision;
        var hash = node.Store.HashKV(0).Value!.Hash;
        storage.Dispose();
        var reopened = MemberStorage.Open(new RealFileSystem(), _directory, _identity, SmallSegments);
        Assert.Equal(marker, reopened.Recovered.Snapshot.Metadata.Index);
        var restarted = StartSingleMember(reopened, InlineSnapshotWorker.Instance, snapshotEvery: 500);
        Assert.Equal(revision, restarted.Store.Revision);
        Assert.Equal(2_100, restarted.Store.KeyCount); // keys 0..2099
        Assert.Equal(hash, restarted.Store.HashKV(0).Value!.Hash);
        reopened.Dispose();
    }

    [Fact]
    public void ACrashBeforeTheSnapshotIsCommitted_RecoversFromTheWal()
    {
        var storage = MemberStorage.Open(new RealFileSystem(), _directory, _identity, SmallSegments);
        var worker = new DeferredWorker();
        var node = StartSingleMember(storage, worker, snapshotEvery: 200);
        Put(node, 0, 300);
        worker.Pending[0].Work(); // the file is written, its marker never is
        var revision = node.Store.Revision;
        storage.Dispose();

        var reopened = MemberStorage.Open(new RealFileSystem(), _directory, _identity, SmallSegments);
        Assert.True(reopened.Recovered.Snapshot.IsEmpty);
        Assert.Contains(reopened.Recovered.Notes, note => note.Contains("no record of it becoming durable", StringComparison.Ordinal));
        var restarted = StartSingleMember(reopened, InlineSnapshotWorker.Instance, snapshotEvery: 200);
        Assert.Equal(revision, restarted.Store.Revision);
        Assert.Equal(300, restarted.Store.KeyCount);
        reopened.Dispose();
    }

    [Fact]
    public void AFailedSnapshotWrite_StopsTheNodeWithTheErrorAsThrown()
    {
        var storage = MemberStorage.Open(new RealFileSystem(), _directory, _identity, SmallSegments);
        var worker = new DeferredWorker();
        var node = StartSingleMember(storage, worker, snapshotEvery: 100);
        Put(node, 0, 150);
        var failure = new StorageFullException("no space left for the snapshot file");
        Assert.Same(failure, Assert.Throws<StorageFullException>(() => worker.Pending[0].Finished(failure)));
        storage.Dispose();
    }

    [Fact]
    public void ASnapshotIsAlsoTakenByLogBytes_ThenByHalfTheLastSnapshotsSize()
    {
        var storage = MemberStorage.Open(new RealFileSystem(), _directory, _identity, SmallSegments);
        var options = new NodeOptions { MemberId = 1, InitialVoters = [1], SnapshotCountEntries = 1_000_000, SnapshotLogBytesMin = 20_000 };
        var node = Start(new ClusterNode(options, storage, new NoPeers(), new Random(1)));
        Put(node, 0, 100); // about 13 KB of entries: not yet
        Assert.Equal(0ul, storage.Wal.SnapshotMarkerIndex);
        Put(node, 100, 100); // past 20 KB
        var first = storage.Wal.SnapshotMarkerIndex;
        Assert.InRange(first, 150ul, 200ul);
        // Growing the keyspace: each later snapshot waits for half the last one's size in entries, so the gaps grow
        // (with a fixed byte threshold they would stay at the first gap).
        var markers = MarkersWhilePutting(node, storage, firstKey: 200, batches: 40, batchSize: 50);
        var gaps = Gaps(markers);
        Assert.True(gaps.Count >= 3, $"markers {string.Join(",", markers)}");
        Assert.True(gaps[^1] > first * 3 / 2, $"markers {string.Join(",", markers)}");
        Assert.True(gaps.Zip(gaps.Skip(1), (a, b) => b + 60 >= a).All(growing => growing), $"markers {string.Join(",", markers)}");
        storage.Dispose();
    }

    [Fact]
    public void ALargeKeyspace_IsSnapshottedByLogBytes_NotByCount()
    {
        var storage = MemberStorage.Open(new RealFileSystem(), _directory, _identity, SmallSegments);
        // count rule every 50 entries; keyspaces of 4 KB and more count as large here (about 130 B per entry);
        // log-bytes rule at 4 KB or half the last snapshot
        var options = new NodeOptions
        {
            MemberId = 1, InitialVoters = [1], SnapshotCountEntries = 50, SnapshotCountGateBytes = 4_000, SnapshotLogBytesMin = 4_000,
        };
        var node = Start(new ClusterNode(options, storage, new NoPeers(), new Random(1)));
        Put(node, 0, 60); // the first snapshot by count (or bytes): nothing written before it
        var first = storage.Wal.SnapshotMarkerIndex;
        Assert.InRange(first, 30ul, 62ul);
        var markers = MarkersWhilePutting(node, storage, firstKey: 60, batches: 80, batchSize: 10); // the keyspace grows
        var gaps = Gaps(markers);
        var text = $"markers {string.Join(",", markers)}";
        Assert.True(gaps.Count >= 3, text);
        // by count every gap would be about 50 entries; by bytes each waits for half the last snapshot, which grows with
        // the keyspace (the last gap is 198 entries here; the earlier rule, count once a quarter of it was written, gave 156)
        Assert.True(gaps[^1] >= 180, text);
        Assert.True(gaps.Zip(gaps.Skip(1), (a, b) => b + 20 >= a).All(growing => growing), text);
        storage.Dispose();
    }

    [Fact]
    public void TheHalfTheLastSnapshotRule_StopsAtTheLogBytesCap()
    {
        var storage = MemberStorage.Open(new RealFileSystem(), _directory, _identity, SmallSegments);
        // by bytes only: 4 KB, or half the last snapshot up to 8 KB (entries of about 130 B)
        var options = new NodeOptions
        {
            MemberId = 1, InitialVoters = [1], SnapshotCountEntries = 1_000_000, SnapshotLogBytesMin = 4_000, SnapshotLogBytesMax = 8_000,
        };
        var node = Start(new ClusterNode(options, storage, new NoPeers(), new Random(1)));
        var markers = MarkersWhilePutting(node, storage, firstKey: 0, batches: 100, batchSize: 10); // each snapshot larger
        var gaps = Gaps(markers);
        var text = $"markers {string.Join(",", markers)}";
        // The keyspace ends near 1,000 keys of over 100 B each, so half a snapshot is far past 8 KB: without the cap the
        // last gaps would be several hundred entries; with it none is over about 8 KB of entries (62 here, plus the
        // batch of 10 in which the threshold is crossed).
        Assert.True(gaps.Count >= 10, text);
        Assert.True(gaps.Max() <= 75, text);
        Assert.True(gaps.TakeLast(5).All(gap => gap >= 50), text); // the cap, not the 4 KB floor, decides the late gaps
        storage.Dispose();
    }

    /// <summary>
    /// Puts batches of new keys from <paramref name="firstKey"/> on, noting the WAL's snapshot marker each time it moves:
    /// the markers in order, starting with the one already there (if any).
    /// </summary>
    private static List<ulong> MarkersWhilePutting(ClusterNode node, MemberStorage storage, int firstKey, int batches, int batchSize)
    {
        var markers = new List<ulong>();
        if (storage.Wal.SnapshotMarkerIndex != 0)
        {
            markers.Add(storage.Wal.SnapshotMarkerIndex);
        }
        for (var batch = 0; batch < batches; batch++)
        {
            Put(node, firstKey + batch * batchSize, batchSize);
            if (storage.Wal.SnapshotMarkerIndex != (markers.Count > 0 ? markers[^1] : 0))
            {
                markers.Add(storage.Wal.SnapshotMarkerIndex);
            }
        }
        return markers;
    }

    private static List<ulong> Gaps(List<ulong> markers) => markers.Zip(markers.Skip(1), (a, b) => b - a).ToList();

    private static void Put(ClusterNode node, int first, int count)
    {
        for (var i = first; i < first + count; i++)
        {
            WriteResult? result = null;
            node.SubmitWrite(WriteCommand.Put(new PutRequest { Key = Encoding.UTF8.GetBytes($"key{i:D5}"), Value = new byte[100] }), done => result = done);
            node.Process();
            Assert.Equal(NodeError.None, result?.Error);
        }
    }

    private static ClusterNode StartSingleMember(MemberStorage storage, ISnapshotWorker worker, ulong snapshotEvery)
    {
        var options = new NodeOptions { MemberId = 1, InitialVoters = [1], SnapshotCountEntries = snapshotEvery, SnapshotCatchUpEntries = 10 };
        return Start(new ClusterNode(options, storage, new NoPeers(), new Random(1)) { SnapshotWorker = worker });
    }

    private static ClusterNode Start(ClusterNode node)
    {
        for (var i = 0; i < 100 && !node.GetStatus().IsLeader; i++)
        {
            node.Tick();
            node.Process();
        }
        Assert.True(node.GetStatus().IsLeader);
        node.Process();
        return node;
    }

    private sealed class DeferredWorker : ISnapshotWorker
    {
        public List<(Action Work, Action<Exception?> Finished)> Pending { get; } = [];

        public void Run(Action work, Action<Exception?> finished) => Pending.Add((work, finished));
    }
}
