using Parley.Checker.Search;
using Parley.Torture;

namespace Parley.Torture.Tests;

/// <summary>
/// The bounded CI sample of <c>parley torture</c> on real member processes (a few minutes in all; runs one at a time,
/// the machine is shared). <c>./parley torture --minutes N --nemesis all</c> runs the same for longer.
/// </summary>
[Collection("torture")]
public sealed class TortureSuiteTests : IDisposable
{
    private readonly string _output = Path.Combine(Path.GetTempPath(), "parley-torture-test-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>Clean runs delete their own folders; a failing run's folder (history, logs, schedule) stays for a look.</summary>
    public void Dispose()
    {
        if (Directory.Exists(_output) && !Directory.EnumerateFileSystemEntries(_output).Any())
        {
            Directory.Delete(_output);
        }
    }

    private TortureOptions Options(int size) => new()
    {
        ParleyPath = Path.Combine(AppContext.BaseDirectory, "parley.dll"),
        OutputDirectory = _output,
        Runs = 1,
        MemberCounts = [size],
        RunSeconds = 20,
        OperationsMaxPerRun = 3_000,
        Seed = 20 + size,
    };

    private static string Describe(IReadOnlyList<RunResult> runs) =>
        string.Join("\n", runs.SelectMany(run => run.Anomalies.Select(anomaly => $"run {run.Number} ({run.Folder}): {anomaly}")));

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public async Task Torture_EveryNemesis_FindsNothing(int members)
    {
        var writer = new StringWriter();
        var (exitCode, runs) = await TortureRunner.RunAsync(Options(members), writer, CancellationToken.None);
        var run = Assert.Single(runs);
        Assert.True(run.Anomalies.Count == 0, Describe(runs) + "\n" + writer);
        Assert.True(run.Linearizability == Verdict.Linearizable, writer.ToString());
        Assert.Equal(0, exitCode);
        Assert.True(run.Faults.Values.Sum() >= 2, writer.ToString());
        Assert.True(run.Acknowledged >= 100, writer.ToString());
        Assert.True(run.WatchedEvents >= 100, writer.ToString()); // and each watcher's events were checked against the store
        Assert.True(run.Locks.Holds >= 5 && run.Locks.WritesApplied >= 5, writer.ToString()); // each write checked against its holder's token
        Assert.Contains("anomalies: 0", writer.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Torture_MembersReplacedAndLeadershipMoved_WhileLockHoldersPause_FindsNothing()
    {
        var options = Options(3) with { Faults = FaultKinds.Parse("member")!, Seed = 41 };
        var writer = new StringWriter();
        var (exitCode, runs) = await TortureRunner.RunAsync(options, writer, CancellationToken.None);
        var run = Assert.Single(runs);
        Assert.True(run.Anomalies.Count == 0, Describe(runs) + "\n" + writer);
        Assert.True(run.Linearizability == Verdict.Linearizable, writer.ToString());
        Assert.Equal(0, exitCode);
        // Members were removed and fresh ones (new names, ports, data) joined as learners and were promoted;
        // the checks ran over the final members (HashKV, member lists, final reads, watchers on current endpoints).
        Assert.True(run.Faults.GetValueOrDefault(FaultKind.MemberChange) >= 1, writer.ToString());
        Assert.Equal(3, run.FinalMembers.Count);
        Assert.NotEqual(["m1", "m2", "m3"], run.FinalMembers);
        // Paused holders lost their leases and the fence refused their late writes.
        Assert.True(run.Locks.PausedHolds >= 1 && run.Locks.WritesRefused >= 1, writer.ToString());
    }

    [Fact]
    public async Task Torture_CatchesLockUsersThatWriteWithoutTheFence()
    {
        var options = Options(3) with { RunSeconds = 12, Faults = [], InjectBug = TortureOptions.UnfencedLockBug };
        var writer = new StringWriter();
        var (exitCode, runs) = await TortureRunner.RunAsync(options, writer, CancellationToken.None);
        Assert.True(exitCode == 1, writer.ToString());
        var run = Assert.Single(runs);
        Assert.Contains(run.Anomalies, anomaly => anomaly.StartsWith("lock: ", StringComparison.Ordinal)
            && anomaly.Contains("without the token compare", StringComparison.Ordinal) && anomaly.Contains("the writer had lost the lock", StringComparison.Ordinal));
        Assert.All(run.Anomalies, anomaly => Assert.StartsWith("lock: ", anomaly, StringComparison.Ordinal));
        Directory.Delete(_output, recursive: true); // the expected finding: nothing to keep
    }

    [Fact]
    public async Task Torture_CatchesTheInjectedStaleReadBug_AndKeepsTheEvidence()
    {
        var options = Options(3) with
        {
            Runs = 3, StopOnAnomaly = true, InjectBug = "stale-read", Faults = FaultKinds.Parse("partition,pause")!,
        };
        var writer = new StringWriter();
        var (exitCode, runs) = await TortureRunner.RunAsync(options, writer, CancellationToken.None);
        Assert.True(exitCode == 1, writer.ToString());
        var caught = runs.First(run => run.Anomalies.Count > 0);
        Assert.True(caught.Linearizability == Verdict.NotLinearizable, writer.ToString());
        foreach (var file in new[] { "history.jsonl", "history.raw.jsonl", "nemesis.log", "checker.txt", "anomalies.txt", "members/m1.log", "members/m3.log" })
        {
            Assert.True(File.Exists(Path.Combine(caught.Folder, file)), file + " missing in " + caught.Folder);
        }
        Assert.Contains("not linearizable", File.ReadAllText(Path.Combine(caught.Folder, "checker.txt")), StringComparison.Ordinal);
        Assert.Contains("linearization becomes impossible", File.ReadAllText(Path.Combine(caught.Folder, "checker.txt")), StringComparison.Ordinal);
        Directory.Delete(_output, recursive: true); // the expected finding: nothing to keep
    }

    [Fact]
    public async Task Crash_ThreeMembersKilledRepeatedly_KeepEveryAcknowledgedWrite()
    {
        var options = Options(3) with { Mode = TortureMode.Crash, Kills = 12 };
        var writer = new StringWriter();
        var (exitCode, runs) = await TortureRunner.RunAsync(options, writer, CancellationToken.None);
        var run = Assert.Single(runs);
        Assert.True(run.Anomalies.Count == 0, Describe(runs) + "\n" + writer);
        Assert.True(exitCode == 0, writer.ToString());
        Assert.Equal(8, run.Faults[FaultKind.Kill]);
        Assert.Equal(4, run.Faults[FaultKind.KillAll]);
        Assert.True(run.Acknowledged >= 100, writer.ToString());
    }
}
