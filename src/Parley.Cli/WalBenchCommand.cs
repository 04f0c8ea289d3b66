using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Parley.Raft;
using Parley.Storage;

namespace Parley.Cli;

/// <summary>
/// <c>parley wal bench</c>: the disk's plain fdatasync rate, then durable WAL appends per second with 1..N
/// concurrent writers through a group committer (one thread owns the log; each turn it takes everything queued,
/// appends it and syncs once, which is what a member's node loop does).
/// </summary>
internal static class WalBenchCommand
{
    public static Command Create()
    {
        var directory = new Option<string?>("--dir") { Description = "Directory for the benchmark's files (default: a new one under /tmp, removed after)." };
        var writers = new Option<string>("--writers") { Description = "Comma-separated concurrent writer counts.", DefaultValueFactory = _ => "1,16,256" };
        var sizes = new Option<string>("--entry-bytes") { Description = "Comma-separated entry payload sizes.", DefaultValueFactory = _ => "256,4096" };
        var seconds = new Option<double>("--seconds") { Description = "Duration of each measurement.", DefaultValueFactory = _ => 5 };
        var method = new Option<string>("--sync") { Description = "fdatasync (libc, default) or flush (FileStream.Flush(true), i.e. fsync).", DefaultValueFactory = _ => "fdatasync" };
        var command = new Command("bench", "Measure the fdatasync rate and WAL append throughput with group commit.");
        command.Options.Add(directory);
        command.Options.Add(writers);
        command.Options.Add(sizes);
        command.Options.Add(seconds);
        command.Options.Add(method);
        command.SetAction(parseResult =>
        {
            var syncMethod = parseResult.GetValue(method) == "flush" ? FileSyncMethod.FileStreamFlush : FileSyncMethod.Fdatasync;
            var root = parseResult.GetValue(directory) ?? Path.Combine(Path.GetTempPath(), $"parley-wal-bench-{Environment.ProcessId}");
            var duration = TimeSpan.FromSeconds(parseResult.GetValue(seconds));
            try
            {
                Directory.CreateDirectory(root);
                Run(root, syncMethod, duration, ParseList(parseResult.GetValue(writers)!), ParseList(parseResult.GetValue(sizes)!));
            }
            finally
            {
                if (parseResult.GetValue(directory) is null)
                {
                    Directory.Delete(root, recursive: true);
                }
            }
            return 0;
        });
        return command;
    }

    private static int[] ParseList(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

    private static void Run(string root, FileSyncMethod syncMethod, TimeSpan duration, int[] writerCounts, int[] entrySizes)
    {
        var output = Console.Out;
        output.WriteLine($"directory {root}, sync {syncMethod}, {duration.TotalSeconds} s per measurement");
        foreach (var candidate in new[] { FileSyncMethod.Fdatasync, FileSyncMethod.FileStreamFlush })
        {
            foreach (var bytes in entrySizes)
            {
                var rate = PlainSyncRate(root, candidate, bytes, duration);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"plain {candidate}: write {bytes} B + sync, one at a time: {rate:F0} syncs/s ({1e6 / rate:F0} us each)"));
            }
        }
        output.WriteLine("| entry bytes | writers | durable appends/s | MB/s | entries per fsync | p50 latency ms | p99 latency ms |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var bytes in entrySizes)
        {
            foreach (var writers in writerCounts)
            {
                var result = GroupCommit(root, syncMethod, writers, bytes, duration);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {bytes} | {writers} | {result.AppendsPerSecond:F0} | {result.AppendsPerSecond * bytes / 1e6:F1} | {result.EntriesPerSync:F1} | {result.P50Ms:F2} | {result.P99Ms:F2} |"));
            }
        }
    }

    private static double PlainSyncRate(string root, FileSyncMethod method, int bytes, TimeSpan duration)
    {
        var path = Path.Combine(root, $"plain-{method}-{bytes}.dat");
        var fileSystem = new RealFileSystem(method);
        var data = new byte[bytes];
        Random.Shared.NextBytes(data);
        const long FileBytes = 256L * 1024 * 1024;
        using var file = fileSystem.CreateFile(path, FileBytes);
        file.Sync();
        var stopwatch = Stopwatch.StartNew();
        long syncs = 0;
        long offset = 0;
        while (stopwatch.Elapsed < duration)
        {
            file.Write(offset, data);
            file.Sync();
            offset = (offset + bytes) % (FileBytes - bytes);
            syncs++;
        }
        var rate = syncs / stopwatch.Elapsed.TotalSeconds;
        File.Delete(path);
        return rate;
    }

    private sealed record Result(double AppendsPerSecond, double EntriesPerSync, double P50Ms, double P99Ms);

    private static Result GroupCommit(string root, FileSyncMethod method, int writers, int bytes, TimeSpan duration)
    {
        var dataDirectory = Path.Combine(root, $"member-{writers}-{bytes}");
        var options = new StorageOptions();
        using var storage = MemberStorage.Open(new RealFileSystem(method), dataDirectory, new StorageIdentity(1, 1), options);
        using var committer = new GroupCommitter(storage);
        var stop = Stopwatch.StartNew();
        var latencies = new List<double>[writers];
        var tasks = new Task[writers];
        for (var w = 0; w < writers; w++)
        {
            var mine = latencies[w] = [];
            var payload = new byte[bytes];
            Random.Shared.NextBytes(payload);
            tasks[w] = Task.Run(async () =>
            {
                while (stop.Elapsed < duration)
                {
                    var started = Stopwatch.GetTimestamp();
                    await committer.AppendAsync(payload).ConfigureAwait(false);
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            });
        }
        Task.WaitAll(tasks);
        var elapsed = stop.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        var syncs = Math.Max(1, storage.Wal.Statistics.Batches);
        var result = new Result(all.Length / elapsed, (double)committer.Appended / syncs, all[all.Length / 2], all[(int)(all.Length * 0.99)]);
        committer.Dispose();
        storage.Dispose();
        Directory.Delete(dataDirectory, recursive: true);
        return result;
    }

    /// <summary>One thread owns the storage; each turn it takes every queued entry, appends them all, syncs once.</summary>
    private sealed class GroupCommitter : IDisposable
    {
        private readonly MemberStorage _storage;
        private readonly object _gate = new();
        private readonly Thread _thread;
        private List<(byte[] Data, TaskCompletionSource Done)> _queue = [];
        private List<(byte[] Data, TaskCompletionSource Done)> _taking = [];
        private bool _stopping;
        private ulong _lastIndex;

        public GroupCommitter(MemberStorage storage)
        {
            _storage = storage;
            _lastIndex = storage.Recovered.LastIndex;
            _thread = new Thread(Loop) { IsBackground = true, Name = "wal-group-commit" };
            _thread.Start();
        }

        public long Appended { get; private set; }

        public Task AppendAsync(byte[] data)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                _queue.Add((data, done));
                if (_queue.Count == 1)
                {
                    Monitor.Pulse(_gate);
                }
            }
            return done.Task;
        }

        private void Loop()
        {
            var entries = new List<Entry>();
            while (true)
            {
                lock (_gate)
                {
                    while (_queue.Count == 0 && !_stopping)
                    {
                        Monitor.Wait(_gate);
                    }
                    if (_queue.Count == 0)
                    {
                        return;
                    }
                    (_queue, _taking) = (_taking, _queue);
                }
                entries.Clear();
                foreach (var (data, _) in _taking)
                {
                    entries.Add(new Entry(1, ++_lastIndex, EntryType.Normal, data));
                }
                _storage.Append(new HardState(1, 1, _lastIndex), entries);
                _storage.Sync();
                Appended += entries.Count;
                foreach (var (_, done) in _taking)
                {
                    done.SetResult();
                }
                _taking.Clear();
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _stopping = true;
                Monitor.Pulse(_gate);
            }
            _thread.Join();
        }
    }
}
