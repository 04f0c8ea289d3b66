using System.Diagnostics;
using System.Globalization;

namespace Parley.Cli;

/// <summary>One seed's outcome, whatever the simulation mode, in the terms <c>parley sim</c> prints.</summary>
internal sealed record SeedReport(
    ulong Seed,
    string Parameters,
    string Summary,
    string? Violation,
    string ViolationKind,
    string TraceTail,
    long Operations,
    long VirtualMicros,
    long Flips = 0,
    long FlipsRefused = 0,
    long MembershipApplied = 0,
    long MembershipRefused = 0,
    long LeadershipMoves = 0)
{
    public bool Passed => Violation is null;
}

/// <summary>
/// Runs seeds for <c>parley sim</c> in either mode with one output contract: <c>SEED=</c> lines with the broken
/// invariant, trace tail and replay command; one seed replayed exactly; many seeds in parallel ending with
/// <c>N seeds, K violations</c>.
/// </summary>
internal sealed class SeedRunner(Func<ulong, TextWriter?, SeedReport> run, string replayCommand, bool countsFlips)
{
    public int RunOne(ulong seed, bool trace)
    {
        var report = run(seed, trace ? Console.Out : null);
        Console.WriteLine($"seed {seed}: {report.Parameters}");
        Console.WriteLine(report.Summary);
        if (report.Passed)
        {
            return 0;
        }
        PrintViolation(report);
        return 1;
    }

    public int RunMany(string description, ulong first, int count, int jobs, int stopAfter)
    {
        Console.WriteLine($"running {count} seeds from {first} ({description}, {jobs} jobs)");
        var stopwatch = Stopwatch.StartNew();
        var gate = new object();
        int violations = 0, ran = 0;
        long operations = 0, virtualMicros = 0, flips = 0, flipsRefused = 0, membershipApplied = 0, membershipRefused = 0, moves = 0;
        using var cancel = new CancellationTokenSource();
        var options = new ParallelOptions { MaxDegreeOfParallelism = jobs, CancellationToken = cancel.Token };
        try
        {
            Parallel.For(0, count, options, i =>
            {
                var report = run(first + (ulong)i, null);
                lock (gate)
                {
                    ran++;
                    operations += report.Operations;
                    virtualMicros += report.VirtualMicros;
                    flips += report.Flips;
                    flipsRefused += report.FlipsRefused;
                    membershipApplied += report.MembershipApplied;
                    membershipRefused += report.MembershipRefused;
                    moves += report.LeadershipMoves;
                    if (!report.Passed)
                    {
                        violations++;
                        PrintViolation(report);
                        if (stopAfter > 0 && violations >= stopAfter)
                        {
                            cancel.Cancel();
                        }
                    }
                }
            });
        }
        catch (OperationCanceledException)
        {
            // stopped early on request
        }
        var seconds = stopwatch.Elapsed.TotalSeconds;
        var flipsText = countsFlips
            ? $", {flips} bit flips ({flipsRefused} refused at start-up), {membershipApplied} membership changes applied " +
              $"({membershipRefused} refused), {moves} leadership moves"
            : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{seconds:F1}s: {ran / seconds:F1} seeds/s, {operations / seconds:F0} client operations/s, {virtualMicros / 1e6 / seconds:F0}x virtual time{flipsText}"));
        Console.WriteLine($"{ran} seeds, {violations} violations");
        return violations == 0 ? 0 : 1;
    }

    private void PrintViolation(SeedReport report)
    {
        Console.WriteLine($"SEED={report.Seed} {report.ViolationKind} violation: {report.Violation}");
        Console.WriteLine($"  parameters: {report.Parameters}");
        Console.WriteLine("  trace tail:");
        foreach (var line in report.TraceTail.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Console.WriteLine("    " + line.TrimEnd());
        }
        Console.WriteLine($"  replay: {string.Format(CultureInfo.InvariantCulture, replayCommand, report.Seed)} --trace");
    }
}
