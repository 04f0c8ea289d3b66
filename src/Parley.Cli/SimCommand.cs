using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Parley.Simulation;
using Parley.Simulation.NodeMode;

namespace Parley.Cli;

/// <summary><c>parley sim</c>: runs seeded whole-cluster simulations and reports invariant violations.</summary>
internal static class SimCommand
{
    public static Command Create()
    {
        var seed = new Option<ulong?>("--seed") { Description = "Run (replay) exactly this seed" };
        var seeds = new Option<int>("--seeds") { Description = "Number of seeds to run", DefaultValueFactory = _ => 100 };
        var firstSeed = new Option<ulong?>("--first-seed") { Description = "First seed of a --seeds run (default: drawn at random and printed)" };
        var nodes = new Option<int?>("--nodes") { Description = "Members per cluster (default: drawn from each seed)" };
        var bug = new Option<string?>("--inject-bug")
        {
            Description = "Switch on a known bug: " + string.Join(", ", SimulationBugNames.ByName.Keys) +
                          " (raft mode); " + string.Join(", ", NodeSimulationBugNames.ByName.Keys) + " (node mode, chosen by them)",
        };
        var mode = new Option<string?>("--mode")
        {
            Description = "raft: the Raft core over in-memory logs (default); node: whole members (ClusterNode over MemberStorage on simulated disks with bit flips)",
        };
        var trace = new Option<bool>("--trace") { Description = "With --seed: print every event" };
        var jobs = new Option<int>("--jobs") { Description = "Seeds run in parallel", DefaultValueFactory = _ => Environment.ProcessorCount };
        var stopAfter = new Option<int>("--stop-after") { Description = "Stop after this many violations (0: run every seed)", DefaultValueFactory = _ => 0 };
        var command = new Command("sim", "Run whole clusters on virtual time under network, disk and crash faults, checking Raft's invariants")
        {
            seed, seeds, firstSeed, nodes, bug, trace, jobs, stopAfter, mode,
        };
        command.SetAction(parse =>
        {
            var bugName = parse.GetValue(bug);
            var modeName = parse.GetValue(mode);
            if (modeName is not (null or "raft" or "node"))
            {
                Console.Error.WriteLine($"parley sim: unknown mode '{modeName}'; known: raft, node");
                return 64;
            }
            var injected = SimulationBug.None;
            var nodeBug = NodeSimulationBug.None;
            var nodeMode = modeName == "node";
            if (bugName is not null && NodeSimulationBugNames.ByName.TryGetValue(bugName, out nodeBug))
            {
                if (modeName == "raft")
                {
                    Console.Error.WriteLine($"parley sim: bug '{bugName}' lives in the storage layer; it needs --mode node");
                    return 64;
                }
                nodeMode = true;
            }
            else if (bugName is not null && !SimulationBugNames.ByName.TryGetValue(bugName, out injected))
            {
                Console.Error.WriteLine($"parley sim: unknown bug '{bugName}'; known: " +
                                        string.Join(", ", SimulationBugNames.ByName.Keys.Concat(NodeSimulationBugNames.ByName.Keys)));
                return 64;
            }
            else if (bugName is not null && nodeMode)
            {
                Console.Error.WriteLine($"parley sim: bug '{bugName}' is injected in raft mode only");
                return 64;
            }
            var nodeCount = parse.GetValue(nodes);
            if (nodeCount is < 1 or > 15)
            {
                Console.Error.WriteLine("parley sim: --nodes must be between 1 and 15");
                return 64;
            }
            if (parse.GetValue(seed) is { } single)
            {
                return nodeMode ? NodeSimRunner.RunOne(single, nodeCount, nodeBug, parse.GetValue(trace)) : RunOne(single, nodeCount, injected, parse.GetValue(trace));
            }
            var count = parse.GetValue(seeds);
            if (count < 1)
            {
                Console.Error.WriteLine("parley sim: --seeds must be at least 1");
                return 64;
            }
            var first = parse.GetValue(firstSeed) ?? (ulong)Random.Shared.NextInt64(1, long.MaxValue / 2);
            return nodeMode
                ? NodeSimRunner.RunMany(first, count, nodeCount, nodeBug, Math.Max(1, parse.GetValue(jobs)), parse.GetValue(stopAfter))
                : RunMany(first, count, nodeCount, injected, Math.Max(1, parse.GetValue(jobs)), parse.GetValue(stopAfter));
        });
        return command;
    }

    private static int RunOne(ulong seed, int? nodes, SimulationBug bug, bool trace)
    {
        var result = ClusterSimulation.Run(seed, nodes, bug, trace ? Console.Out : null);
        Console.WriteLine($"seed {seed}: {result.Parameters}");
        Console.WriteLine(Describe(result));
        if (result.Passed)
        {
            return 0;
        }
        PrintViolation(result, nodes);
        return 1;
    }

    private static int RunMany(ulong first, int count, int? nodes, SimulationBug bug, int jobs, int stopAfter)
    {
        Console.WriteLine($"running {count} seeds from {first} ({(nodes is { } n ? $"{n} members" : "sizes drawn per seed")}, bug: {SimulationBugNames.Name(bug)}, {jobs} jobs)");
        var stopwatch = Stopwatch.StartNew();
        var gate = new object();
        var violations = 0;
        var ran = 0;
        long operations = 0;
        long virtualMicros = 0;
        using var cancel = new CancellationTokenSource();
        var options = new ParallelOptions { MaxDegreeOfParallelism = jobs, CancellationToken = cancel.Token };
        try
        {
            Parallel.For(0, count, options, i =>
            {
                var result = ClusterSimulation.Run(first + (ulong)i, nodes, bug);
                lock (gate)
                {
                    ran++;
                    operations += result.OperationsCompleted;
                    virtualMicros += result.VirtualMicros;
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
            $"{seconds:F1}s: {ran / seconds:F1} seeds/s, {operations / seconds:F0} client operations/s, {virtualMicros / 1e6 / seconds:F0}x virtual time"));
        Console.WriteLine($"{ran} seeds, {violations} violations");
        return violations == 0 ? 0 : 1;
    }

    private static string Describe(SimulationResult result) =>
        $"{(result.Passed ? "ok" : "VIOLATION")}: {result.VirtualMicros / 1000}ms virtual, {result.Events} events, " +
        $"{result.MessagesSent} messages, {result.OperationsCompleted} operations ({result.OperationsAcknowledged} acknowledged, " +
        $"{result.ReadsChecked} reads checked), {result.LeaderElections} elections, {result.Crashes} crashes, " +
        $"{result.Partitions} partitions, {result.ConfigChanges} membership changes, {result.Snapshots} snapshots";

    private static void PrintViolation(SimulationResult result, int? nodes)
    {
        var replay = $"./parley sim --seed {result.Seed}" + (nodes is { } n ? $" --nodes {n}" : "") +
                     (result.Parameters.Bug != SimulationBug.None ? $" --inject-bug {SimulationBugNames.Name(result.Parameters.Bug)}" : "");
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
