using System.Diagnostics;
using System.Globalization;
using Parley.Simulation.NodeMode;

namespace Parley.Cli;

/// <summary><c>parley sim --mode node</c> (or a storage bug): whole members over simulated disks; same output contract as raft mode.</summary>
internal static class NodeSimRunner
{
    public static int RunOne(ulong seed, int? nodes, NodeSimulationBug bug, bool trace)
    {
        var result = NodeSimulation.Run(seed, nodes, bug, trace ? Console.Out : null);
        Console.WriteLine($"seed {seed}: {result.Parameters}");
        Console.WriteLine(Describe(result));
        if (result.Passed)
        {
            return 0;
        }
        PrintViolation(result, nodes);
        return 1;
    }

    public static int RunMany(ulong first, int count, int? nodes, NodeSimulationBug bug, int jobs, int stopAfter)
    {
        Console.WriteLine($"running {count} seeds from {first} (node mode, {(nodes is { } n ? $"{n} members" : "sizes drawn per seed")}, bug: {NodeSimulationBugNames.Name(bug)}, {jobs} jobs)");
        var stopwatch = Stopwatch.StartNew();
        var gate = new object();
        var violations = 0;
        var ran = 0;
        long operations = 0;
        long virtualMicros = 0;
        long flips = 0;
        long flipsRefused = 0;
        using var cancel = new CancellationTokenSource();
        var options = new ParallelOptions { MaxDegreeOfParallelism = jobs, CancellationToken = cancel.Token };
        try
        {
            Parallel.For(0, count, options, i =>
            {
                var result = NodeSimulation.Run(first + (ulong)i, nodes, bug);
                lock (gate)
                {
                    ran++;
                    operations += result.OperationsCompleted;
                    virtualMicros += result.VirtualMicros;
                    flips += result.Flips;
                    flipsRefused += result.FlipsRefused;
                    if (!result.Passed)
                    {
                        violations++;
                        PrintViolation(result, nodes);
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
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{seconds:F1}s: {ran / seconds:F1} seeds/s, {operations / seconds:F0} client operations/s, {virtualMicros / 1e6 / seconds:F0}x virtual time, " +
            $"{flips} bit flips ({flipsRefused} refused at start-up)"));
        Console.WriteLine($"{ran} seeds, {violations} violations");
        return violations == 0 ? 0 : 1;
    }

    private static string Describe(NodeSimulationResult result) =>
        $"{(result.Passed ? "ok" : "VIOLATION")}: {result.VirtualMicros / 1000}ms virtual, {result.Events} events, " +
        $"{result.MessagesSent} messages, {result.OperationsCompleted} operations ({result.WritesAcknowledged} writes acknowledged, " +
        $"{result.ReadsChecked} reads checked, {result.OperationsTimedOut} timed out), {result.LeaderElections} elections, {result.Crashes} crashes, " +
        $"{result.Flips} bit flips ({result.FlipsRefused} refused, {result.FlipsHarmless} harmless), {result.Partitions} partitions, {result.FileSyncs} file syncs";

    private static void PrintViolation(NodeSimulationResult result, int? nodes)
    {
        var replay = $"./parley sim --mode node --seed {result.Seed}" + (nodes is { } n ? $" --nodes {n}" : "") +
                     (result.Parameters.Bug != NodeSimulationBug.None ? $" --inject-bug {NodeSimulationBugNames.Name(result.Parameters.Bug)}" : "");
        Console.WriteLine($"SEED={result.Seed} {result.ViolationKind} violation: {result.Violation}");
        Console.WriteLine($"  parameters: {result.Parameters}");
        Console.WriteLine("  trace tail:");
        foreach (var line in result.TraceTail.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Console.WriteLine("    " + line.TrimEnd());
        }
        Console.WriteLine($"  replay: {replay} --trace");
    }
}
