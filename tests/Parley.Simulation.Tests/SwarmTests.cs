using System.Collections.Concurrent;
using Parley.Simulation;

namespace Parley.Simulation.Tests;

/// <summary>The simulator as CI runs it: a bounded sample of seeds must hold every invariant, and every known
/// injected bug must be caught (a simulator that cannot fail proves nothing).</summary>
public sealed class SwarmTests
{
    // Seeds that once found a real bug; they stay here forever.
    private static readonly ulong[] RegressionSeeds = [12, 22, 29, 41, 69, 92, 108, 149, 198];

    [Fact]
    public void Swarm_HoldsEveryInvariant_Over500SeedsOfDrawnSizes()
    {
        var failures = RunSeeds(firstSeed: 1, count: 500, nodes: null, SimulationBug.None, stopAfter: 0);
        Assert.True(failures.IsEmpty, Describe(failures));
    }

    [Fact]
    public void Swarm_HoldsEveryInvariant_OnFiveMemberClusters()
    {
        var failures = RunSeeds(firstSeed: 100_000, count: 150, nodes: 5, SimulationBug.None, stopAfter: 0);
        Assert.True(failures.IsEmpty, Describe(failures));
    }

    [Fact]
    public void Swarm_HoldsEveryInvariant_OnRegressionSeeds()
    {
        var failures = new List<SimulationResult>();
        foreach (var seed in RegressionSeeds)
        {
            var result = ClusterSimulation.Run(seed, nodes: null, SimulationBug.None);
            if (!result.Passed)
            {
                failures.Add(result);
            }
        }
        Assert.True(failures.Count == 0, Describe(failures));
    }

    [Theory]
    [InlineData("commit-old-term")]
    [InlineData("vote-without-log-check")]
    [InlineData("ack-before-persist")]
    [InlineData("forget-vote")]
    public void Swarm_CatchesInjectedBug_WithinTwoThousandSeedsOfFiveMembers(string name)
    {
        var bug = SimulationBugNames.ByName[name];
        var failures = RunSeeds(firstSeed: 1, count: 2000, nodes: 5, bug, stopAfter: 1);
        Assert.False(failures.IsEmpty, $"no violation found with {name} injected");
        var found = failures.First();
        Assert.Equal(bug, found.Parameters.Bug);
        Assert.False(string.IsNullOrEmpty(found.TraceTail));
        // The failure replays exactly from its seed.
        var replay = ClusterSimulation.Run(found.Seed, nodes: 5, bug);
        Assert.Equal(found.Violation, replay.Violation);
        Assert.Equal(found.Events, replay.Events);
    }

    [Fact]
    public void Replay_OfOneSeed_ProducesTheSameTraceByteForByte()
    {
        var first = new StringWriter();
        var second = new StringWriter();
        ClusterSimulation.Run(4242, nodes: 5, SimulationBug.None, first);
        ClusterSimulation.Run(4242, nodes: 5, SimulationBug.None, second);
        Assert.True(first.ToString().Length > 10_000, "the trace should record the run");
        Assert.Equal(first.ToString(), second.ToString());
    }

    [Fact]
    public void Seed_ExercisesFaultsAndClients()
    {
        // A sanity check that a typical seed really runs a workload under faults (a simulator that injects
        // nothing would pass every invariant trivially).
        var results = Enumerable.Range(1, 20).Select(i => ClusterSimulation.Run((ulong)i, nodes: 5, SimulationBug.None)).ToList();
        Assert.All(results, r => Assert.True(r.Passed, r.Violation));
        Assert.True(results.Sum(r => r.OperationsAcknowledged) > 5_000);
        Assert.True(results.Sum(r => r.ReadsChecked) > 2_000);
        Assert.True(results.Sum(r => r.Crashes) > 50);
        Assert.True(results.Sum(r => r.Partitions) > 20);
        Assert.True(results.Sum(r => r.Snapshots) > 20);
        Assert.True(results.Sum(r => r.LeaderElections) > 40);
    }

    private static ConcurrentBag<SimulationResult> RunSeeds(ulong firstSeed, int count, int? nodes, SimulationBug bug, int stopAfter)
    {
        var failures = new ConcurrentBag<SimulationResult>();
        using var cancel = new CancellationTokenSource();
        try
        {
            Parallel.For(0, count, new ParallelOptions { CancellationToken = cancel.Token, MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
            {
                var result = ClusterSimulation.Run(firstSeed + (ulong)i, nodes, bug);
                if (!result.Passed)
                {
                    failures.Add(result);
                    if (stopAfter > 0 && failures.Count >= stopAfter)
                    {
                        cancel.Cancel();
                    }
                }
            });
        }
        catch (OperationCanceledException)
        {
        }
        return failures;
    }

    private static string Describe(IEnumerable<SimulationResult> failures) =>
        string.Join("\n", failures.Select(f => $"SEED={f.Seed} {f.ViolationKind}: {f.Violation}\n{f.TraceTail}"));
}
