using Parley.Raft;
using Parley.Storage;
using static Parley.Storage.Tests.StorageTestKit;

namespace Parley.Storage.Tests;

/// <summary>The WAL reports each fdatasync's duration through an injected clock (etcd_disk_wal_fsync_duration_seconds).</summary>
public class WalSyncTimerTests
{
    [Fact]
    public void Sync_ReportsTheFdatasyncDuration_NotTheWriteBeforeIt_AndTheBytesWritten()
    {
        var clock = new ManualClock();
        var fileSystem = new CostlyFileSystem(new SimulatedFileSystem(new Random(1)), clock, writeCost: TimeSpan.FromMilliseconds(3), syncCost: TimeSpan.FromMilliseconds(7));
        var timings = new List<(TimeSpan Duration, long Bytes)>();
        var options = Options(segmentSizeBytes: 1024 * 1024) with { SyncTimer = new WalSyncTimer(clock, (duration, bytes) => timings.Add((duration, bytes))) };
        using var storage = Open(fileSystem, options);
        var bytesBefore = storage.Wal.Statistics.BytesWritten;
        for (var batch = 0; batch < 3; batch++)
        {
            storage.Append(new HardState(1, 1, 0), Entries((ulong)(batch * 10 + 1), (ulong)(batch * 10 + 10)));
            storage.Sync();
        }
        storage.Sync(); // nothing pending: no sync, no timing
        Assert.Equal(3, timings.Count);
        Assert.All(timings, timing => Assert.Equal(TimeSpan.FromMilliseconds(7), timing.Duration));
        Assert.Equal(storage.Wal.Statistics.BytesWritten - bytesBefore, timings.Sum(timing => timing.Bytes));
        Assert.All(timings, timing => Assert.True(timing.Bytes > 10 * 100, $"a batch of ten 100-byte entries wrote {timing.Bytes} bytes"));
    }

    [Fact]
    public void Sync_WithoutATimer_DoesTheSameIo()
    {
        var timed = new SimulatedFileSystem(new Random(5));
        var untimed = new SimulatedFileSystem(new Random(5));
        var clock = new ManualClock();
        using (var storage = Open(timed, Options() with { SyncTimer = new WalSyncTimer(clock, (_, _) => clock.Advance(TimeSpan.FromSeconds(1))) }))
        using (var plain = Open(untimed))
        {
            foreach (var target in new[] { storage, plain })
            {
                target.Append(new HardState(2, 1, 5), Entries(1, 40));
                target.Sync();
            }
        }
        Assert.Equal(untimed.FileSyncCount, timed.FileSyncCount);
        Assert.Equal(Segments(untimed), Segments(timed));
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    /// <summary>A file system whose writes and syncs take a fixed time on <see cref="ManualClock"/>.</summary>
    private sealed class CostlyFileSystem(SimulatedFileSystem inner, ManualClock clock, TimeSpan writeCost, TimeSpan syncCost) : DelegatingFileSystem(inner)
    {
        protected override IStorageFile Wrap(IStorageFile file) => new CostlyFile(file, clock, writeCost, syncCost);
    }

    private sealed class CostlyFile(IStorageFile inner, ManualClock clock, TimeSpan writeCost, TimeSpan syncCost) : DelegatingStorageFile(inner)
    {
        public override void Write(long offset, ReadOnlySpan<byte> data)
        {
            clock.Advance(writeCost);
            base.Write(offset, data);
        }

        public override void Sync()
        {
            clock.Advance(syncCost);
            base.Sync();
        }
    }
}
