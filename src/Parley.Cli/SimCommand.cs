using System.CommandLine;
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
            var runner = nodeMode ? NodeModeRunner(nodeCount, nodeBug) : RaftModeRunner(nodeCount, injected);
            if (parse.GetValue(seed) is { } single)
            {
                return runner.RunOne(single, parse.GetValue(trace));
            }
            var count = parse.GetValue(seeds);
            if (count < 1)
            {
                Console.Error.WriteLine("parley sim: --seeds must be at least 1");
                return 64;
            }
            var first = parse.GetValue(firstSeed) ?? (ulong)Random.Shared.NextInt64(1, long.MaxValue / 2);
            var size = nodeCount is { } n ? $"{n} members" : "sizes drawn per seed";
            var description = nodeMode
                ? $"node mode, {size}, bug: {NodeSimulationBugNames.Name(nodeBug)}"
                : $"{size}, bug: {SimulationBugNames.Name(injected)}";
            return runner.RunMany(description, first, count, Math.Max(1, parse.GetValue(jobs)), parse.GetValue(stopAfter));
        });
        return command;
    }

    private static string ReplayArguments(int? nodes, string? bug) =>
        (nodes is { } n ? $" --nodes {n}" : "") + (bug is null ? "" : $" --inject-bug {bug}");

    private static SeedRunner RaftModeRunner(int? nodes, SimulationBug bug)
    {
        var replay = "./parley sim --seed {0}" + ReplayArguments(nodes, bug == SimulationBug.None ? null : SimulationBugNames.Name(bug));
        return new SeedRunner((seed, trace) =>
        {
            var result = ClusterSimulation.Run(seed, nodes, bug, trace);
            var summary =
                $"{(result.Passed ? "ok" : "VIOLATION")}: {result.VirtualMicros / 1000}ms virtual, {result.Events} events, " +
                $"{result.MessagesSent} messages, {result.OperationsCompleted} operations ({result.OperationsAcknowledged} acknowledged, " +
                $"{result.ReadsChecked} reads checked), {result.LeaderElections} elections, {result.Crashes} crashes, " +
                $"{result.Partitions} partitions, {result.ConfigChanges} membership changes, {result.Snapshots} snapshots";
            return new SeedReport(seed, result.Parameters.ToString(), summary, result.Violation, result.ViolationKind,
                result.TraceTail, result.OperationsCompleted, result.VirtualMicros);
        }, replay, countsFlips: false);
    }

    private static SeedRunner NodeModeRunner(int? nodes, NodeSimulationBug bug)
    {
        var replay = "./parley sim --mode node --seed {0}" + ReplayArguments(nodes, bug == NodeSimulationBug.None ? null : NodeSimulationBugNames.Name(bug));
        return new SeedRunner((seed, trace) =>
        {
            var result = NodeSimulation.Run(seed, nodes, bug, trace);
            var summary =
                $"{(result.Passed ? "ok" : "VIOLATION")}: {result.VirtualMicros / 1000}ms virtual, {result.Events} events, " +
                $"{result.MessagesSent} messages, {result.OperationsCompleted} operations ({result.WritesAcknowledged} writes acknowledged, " +
                $"{result.ReadsChecked} reads checked, {result.OperationsTimedOut} timed out), {result.LeaderElections} elections, {result.Crashes} crashes, " +
                $"{result.Flips} bit flips ({result.FlipsRefused} refused, {result.FlipsHarmless} harmless), {result.Partitions} partitions, {result.FileSyncs} file syncs, " +
                $"{result.MembershipRequests} membership requests ({result.MembershipApplied} applied, {result.MembershipRefused} refused: " +
                $"{result.LearnersAdded} learners added, {result.Promotions} promoted, {result.Removals} removed, {result.PeerUrlUpdates} peer URL updates), " +
                $"{result.Joiners} fresh members, {result.MembersRetired} stopped after their removal ({result.RemovedUnconfirmed} removed still waiting for a leader's word), {result.TransfersCompleted}/{result.Transfers} leadership moves";
            return new SeedReport(seed, result.Parameters.ToString(), summary, result.Violation, result.ViolationKind,
                result.TraceTail, result.OperationsCompleted, result.VirtualMicros, result.Flips, result.FlipsRefused,
                result.MembershipApplied, result.MembershipRefused, result.TransfersCompleted);
        }, replay, countsFlips: true);
    }
}
