using System.Diagnostics;
using System.Globalization;
using Parley.Storage;
using Parley.Storage.CrashHarness;
using Xunit.Abstractions;

namespace Parley.Storage.Tests;

/// <summary>
/// Real processes, real disk, real SIGKILL: the harness appends through the real WAL and reports each index once
/// Sync returned; it is killed at random moments (during start-up and recovery too) and the log is checked after
/// every kill. PARLEY_CRASH_ROUNDS runs more rounds (default 50); PARLEY_CRASH_SEED replays a schedule.
/// </summary>
public class RealProcessCrashTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeMax = TimeSpan.FromMinutes(3);

    [Fact]
    public void Sigkill_AtRandomMoments_LosesNoIndexReportedDurable_AndShowsNothingNeverWritten()
    {
        var rounds = int.Parse(Environment.GetEnvironmentVariable("PARLEY_CRASH_ROUNDS") ?? "50", CultureInfo.InvariantCulture);
        var seed = int.Parse(Environment.GetEnvironmentVariable("PARLEY_CRASH_SEED") ?? Environment.TickCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        output.WriteLine($"PARLEY_CRASH_SEED={seed} rounds={rounds}");
        var random = new Random(seed);
        var harness = Path.Combine(AppContext.BaseDirectory, "Parley.Storage.CrashHarness.dll");
        Assert.True(File.Exists(harness), $"{harness} was not built next to the tests");
        using var directory = new TemporaryDirectory("crash");
        var started = Stopwatch.StartNew();
        ulong durableMax = 0;
        ulong writtenMax = 0;
        var killsWhileAppending = 0;
        for (var round = 0; round < rounds; round++)
        {
            Assert.True(started.Elapsed < RunTimeMax, $"crash test exceeded {RunTimeMax} after {round} rounds");
            var report = RunAndKill(harness, directory.Path, random);
            durableMax = Math.Max(durableMax, report.DurableMax);
            writtenMax = Math.Max(writtenMax, report.WrittenMax);
            killsWhileAppending += report.DurableMax > report.RecoveredAt ? 1 : 0;
            var recovered = Verify(directory.Path, durableMax, writtenMax, round);
            writtenMax = Math.Max(writtenMax, recovered); // indices that exist count as written
        }
        output.WriteLine($"{rounds} kills in {started.Elapsed.TotalSeconds:F1} s; {killsWhileAppending} while appending; " +
            $"highest durable index {durableMax}");
        Assert.True(killsWhileAppending >= rounds / 2, $"only {killsWhileAppending} of {rounds} kills landed while the harness was appending");
    }

    private sealed record RoundReport(ulong RecoveredAt, ulong DurableMax, ulong WrittenMax);

    private static RoundReport RunAndKill(string harness, string dataDirectory, Random random)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(harness);
        start.ArgumentList.Add(dataDirectory);
        start.ArgumentList.Add(random.Next().ToString(CultureInfo.InvariantCulture));
        using var process = Process.Start(start)!;
        ulong recoveredAt = 0, durable = 0, written = 0;
        var firstDurable = new ManualResetEventSlim();
        var gate = new object();
        var reader = new Thread(() =>
        {
            while (process.StandardOutput.ReadLine() is { } line)
            {
                var parts = line.Split(' ');
                var value = ulong.Parse(parts[1], CultureInfo.InvariantCulture);
                lock (gate)
                {
                    switch (parts[0])
                    {
                        case "recovered": recoveredAt = value; durable = Math.Max(durable, value); break;
                        case "write": written = Math.Max(written, value); break;
                        case "durable": durable = Math.Max(durable, value); firstDurable.Set(); break;
                        default: throw new InvalidOperationException($"unexpected harness line: {line}");
                    }
                }
            }
        });
        reader.Start();
        var errors = process.StandardError.ReadToEndAsync();
        if (random.Next(10) < 3)
        {
            Thread.Sleep(random.Next(0, 300)); // during start-up, recovery or the first appends
        }
        else
        {
            Assert.True(firstDurable.Wait(TimeSpan.FromSeconds(30)) || process.HasExited, "harness made no progress in 30 s");
            Thread.Sleep(random.Next(0, 150));
        }
        var exitedByItself = process.HasExited;
        process.Kill();
        process.WaitForExit();
        reader.Join();
        Assert.False(exitedByItself, $"harness exited by itself with {process.ExitCode}: {errors.Result}");
        lock (gate)
        {
            return new RoundReport(recoveredAt, durable, written);
        }
    }

    private static ulong Verify(string dataDirectory, ulong durableMax, ulong writtenMax, int round)
    {
        if (!Directory.Exists(dataDirectory) || !File.Exists(Path.Combine(dataDirectory, StorageFormat.IdentityFileName)))
        {
            Assert.Equal(0UL, durableMax); // killed before the member existed on disk
            return 0;
        }
        var options = CrashWorkload.Options(fatal: message => throw new InvalidOperationException(message));
        using var storage = MemberStorage.Open(new RealFileSystem(), dataDirectory, CrashWorkload.Identity, options);
        var recovered = storage.Recovered;
        Assert.True(recovered.LastIndex >= durableMax, $"round {round}: index {durableMax} was reported durable, the log ends at {recovered.LastIndex}");
        Assert.True(recovered.LastIndex <= writtenMax, $"round {round}: the log ends at {recovered.LastIndex}, only {writtenMax} were ever written");
        var snapshotIndex = recovered.Snapshot.Metadata.Index;
        if (snapshotIndex > 0)
        {
            Assert.Equal(CrashWorkload.SnapshotAt(snapshotIndex).Data.ToArray(), recovered.Snapshot.Data.ToArray());
        }
        for (var i = 0; i < recovered.Entries.Count; i++)
        {
            var entry = recovered.Entries[i];
            var expected = CrashWorkload.EntryAt(snapshotIndex + 1 + (ulong)i);
            Assert.Equal(expected.Index, entry.Index);
            Assert.Equal(expected.Term, entry.Term);
            Assert.True(expected.Data.Span.SequenceEqual(entry.Data.Span), $"round {round}: entry {entry.Index} differs from what was written");
        }
        Assert.True(recovered.HardState.Commit <= recovered.LastIndex);
        return recovered.LastIndex;
    }
}
