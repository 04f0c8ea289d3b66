using System.Diagnostics;
using System.Globalization;
using Parley.Checker.Search;

namespace Parley.Torture;

/// <summary>
/// Runs torture runs one after another until the run count or the minutes are used up, prints one table row per
/// run and a closing summary (runs, operations, faults injected per kind, anomalies), and gives the exit code:
/// 0 nothing found, 1 an anomaly, 3 no anomaly but a linearizability check ran out of budget.
/// </summary>
public static class TortureRunner
{
    /// <exception cref="NetnsException">netns mode was asked for and this host cannot run it.</exception>
    public static async Task<(int ExitCode, IReadOnlyList<RunResult> Runs)> RunAsync(TortureOptions options, TextWriter output, CancellationToken cancellation)
    {
        var (network, networkDescription) = NetworkModes.Resolve(options.Network);
        options = options with { Network = network };
        Directory.CreateDirectory(options.OutputDirectory);
        var started = Stopwatch.GetTimestamp();
        var runsMax = options.Runs ?? (options.Minutes is null ? 2 : int.MaxValue);
        var results = new List<RunResult>();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"parley torture: mode {Mode(options.Mode)}, seed {options.Seed}, {(options.Mode == TortureMode.Crash ? $"{options.Kills} kills per run" : "nemesis " + string.Join(",", options.Faults.Select(FaultKinds.Name)))}, bug {options.InjectBug ?? "none"}, output {options.OutputDirectory}"));
        output.WriteLine("network: " + networkDescription);
        output.WriteLine(options.Mode == TortureMode.Crash
            ? "run  members  seconds   writes   acked  unknown  landed  anomalies  faults"
            : "run  members  seconds      ops      ok  unknown  resolved  linearizability  anomalies  faults");
        output.Flush();
        for (var number = 1; number <= runsMax && !cancellation.IsCancellationRequested; number++)
        {
            if (options.Minutes is { } minutes && Stopwatch.GetElapsedTime(started).TotalMinutes >= minutes)
            {
                break;
            }
            var seed = options.Seed + number - 1;
            var result = options.Mode == TortureMode.Crash
                ? await new CrashRun(options, number, seed).RunAsync(cancellation).ConfigureAwait(false)
                : await new TortureRun(options, number, options.MemberCounts[(number - 1) % options.MemberCounts.Count], seed).RunAsync(cancellation).ConfigureAwait(false);
            results.Add(result);
            output.WriteLine(Row(options.Mode, result));
            if (result.FinalMembers.Count > 0 && !result.FinalMembers.SequenceEqual(Enumerable.Range(1, result.Members).Select(i => "m" + i.ToString(CultureInfo.InvariantCulture))))
            {
                output.WriteLine("     members at the end: " + string.Join(",", result.FinalMembers));
            }
            foreach (var anomaly in result.Anomalies.Take(10))
            {
                output.WriteLine("     ! " + anomaly);
            }
            if (result.Anomalies.Count > 10)
            {
                output.WriteLine($"     ! ... {result.Anomalies.Count - 10} more in {Path.Combine(result.Folder, "anomalies.txt")}");
            }
            if (result.Kept)
            {
                output.WriteLine($"     history, member logs, nemesis schedule and checker output: {result.Folder}");
            }
            output.Flush();
            if (options.StopOnAnomaly && result.Anomalies.Count > 0)
            {
                break;
            }
        }
        WriteSummary(options, results, Stopwatch.GetElapsedTime(started), output);
        var exitCode = results.Any(result => result.Anomalies.Count > 0) ? 1
            : results.Any(result => result.Linearizability == Verdict.Unknown) ? 3
            : 0;
        return (exitCode, results);
    }

    private static string Mode(TortureMode mode) => mode == TortureMode.Crash ? "crash" : "linearizability";

    private static string Row(TortureMode mode, RunResult result)
    {
        var faults = string.Join(" ", result.Faults.OrderBy(pair => pair.Key).Select(pair => $"{FaultKinds.Name(pair.Key)}={pair.Value}"));
        if (faults.Length == 0)
        {
            faults = "-";
        }
        return mode == TortureMode.Crash
            ? string.Create(CultureInfo.InvariantCulture,
                $"{result.Number,3}  {result.Members,7}  {result.Elapsed.TotalSeconds,7:F0}  {result.Operations,7}  {result.Acknowledged,6}  {result.Unknown,7}  {result.Resolved,6}  {result.Anomalies.Count,9}  {faults}")
            : string.Create(CultureInfo.InvariantCulture,
                $"{result.Number,3}  {result.Members,7}  {result.Elapsed.TotalSeconds,7:F0}  {result.Operations,7}  {result.Acknowledged,6}  {result.Unknown,7}  {result.Resolved,8}  {VerdictText(result.Linearizability),-15}  {result.Anomalies.Count,9}  {faults}");
    }

    private static string VerdictText(Verdict? verdict) => verdict switch
    {
        Checker.Search.Verdict.Linearizable => "linearizable",
        Checker.Search.Verdict.NotLinearizable => "NOT",
        Checker.Search.Verdict.Unknown => "unknown",
        _ => "-",
    };

    private static void WriteSummary(TortureOptions options, List<RunResult> results, TimeSpan elapsed, TextWriter output)
    {
        var faults = results.SelectMany(result => result.Faults).GroupBy(pair => pair.Key).OrderBy(group => group.Key)
            .Select(group => $"{FaultKinds.Name(group.Key)}={group.Sum(pair => pair.Value)}").ToList();
        var anomalies = results.Sum(result => result.Anomalies.Count);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"total: {results.Count} runs in {elapsed.TotalMinutes:F1} min, {results.Sum(result => result.Operations)} operations ({results.Sum(result => result.Acknowledged)} acknowledged, {results.Sum(result => result.Unknown)} unknown, {results.Sum(result => result.Resolved)} {(options.Mode == TortureMode.Crash ? "unknown that landed" : "unknown resolved")})"));
        output.WriteLine("faults injected: " + (faults.Count == 0 ? "none" : string.Join(" ", faults)));
        if (options.Mode == TortureMode.Linearizability)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"watch: {results.Sum(result => result.WatchedEvents)} events delivered to {options.Watchers} watchers per run, each checked (ordered, unique, every revision, atomic, equal to the store's changes)"));
            var members = MembershipSummary.Sum(results.Select(result => result.Membership));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"membership: {members.Removed} members removed ({members.LeadersRemoved} of them the leader; {members.StoppedByThemselves} stopped by themselves, {members.KilledAfterRemoval} killed after 10 s still running), {members.Added} added as learners ({members.JoinRestarts} started again after a stale join answer), {members.Promoted} promoted ({members.NotInSyncRefusals} 'not in sync with leader' refusals first), {members.LeaderMoves} leader moves, {members.NotDone} changes or moves refused or unfinished"));
            var locks = LockSummary.Sum(results.Select(result => result.Locks));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"locks: {locks.Holds} acquisitions by {options.LockUsers} lock users per run ({locks.PausedHolds} holders paused past the lease TTL), resource writes: {locks.WritesApplied} applied, {locks.WritesRefused} refused by the token compare, {locks.WritesUnknown} unknown; each checked against the store's history (holder's token, tokens never go back)"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"linearizability: {results.Count(result => result.Linearizability == Checker.Search.Verdict.Linearizable)} linearizable, {results.Count(result => result.Linearizability == Checker.Search.Verdict.NotLinearizable)} not linearizable, {results.Count(result => result.Linearizability == Checker.Search.Verdict.Unknown)} unknown (budget ran out), {results.Count(result => result.Linearizability is null)} not checked"));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"anomalies: {anomalies}"));
    }
}
