using System.Globalization;
using Parley.Checker.Models.KeyValue;
using Parley.Checker.Search;

namespace Parley.Simulation.Tests;

/// <summary>
/// The simulator's client histories, judged independently by the linearizability checker: every seed's reads
/// and writes (unknown outcomes included) must be linearizable as a key-value map.
/// </summary>
public sealed class HistoryLinearizabilityTests
{
    [Fact]
    public void SimulatedHistories_AreLinearizable_AsAKeyValueMap()
    {
        var checkedOperations = 0;
        var proven = 0;
        const int Seeds = 60;
        for (ulong seed = 1; seed <= Seeds; seed++)
        {
            var result = ClusterSimulation.Run(seed, nodes: null, SimulationBug.None);
            Assert.True(result.Passed, result.Violation);
            var history = ToHistory(result.Operations);
            var verdict = LinearizabilityChecker.Check(KeyValueModel.Instance, history, new CheckOptions { Timeout = TimeSpan.FromSeconds(10) });
            // Unknown means the search budget ran out (many writes with unknown outcomes): no violation found,
            // but no proof either; those seeds don't count toward the checked totals.
            Assert.True(verdict.Verdict != Verdict.NotLinearizable, $"seed {seed}: not linearizable");
            if (verdict.Verdict == Verdict.Linearizable)
            {
                proven++;
                checkedOperations += history.Count;
            }
        }
        Assert.True(proven >= Seeds * 8 / 10, $"only {proven} of {Seeds} histories could be proven linearizable");
        Assert.True(checkedOperations > 20_000, $"only {checkedOperations} operations checked");
    }

    [Fact]
    public void Checker_RejectsASimulatedHistory_WithOneStaleReadPlanted()
    {
        // The same pipeline must be able to fail: plant a read of a value overwritten long before it began.
        var result = ClusterSimulation.Run(3, nodes: 3, SimulationBug.None);
        var history = ToHistory(result.Operations).ToList();
        var index = FindReadAfterTwoWrites(history);
        Assert.True(index >= 0, "the seed should contain a read after two completed writes to its key");
        var read = history[index];
        var firstWrite = history.First(o => o.Input.Kind == KeyValueOperationKind.Put && o.Input.Key == read.Input.Key && o.HasReturned);
        history[index] = read with { Output = KeyValueOutput.Completed(firstWrite.Input.Value) };
        var verdict = LinearizabilityChecker.Check(KeyValueModel.Instance, history, new CheckOptions { Timeout = TimeSpan.FromSeconds(20) });
        Assert.Equal(Verdict.NotLinearizable, verdict.Verdict);
    }

    private static int FindReadAfterTwoWrites(List<Operation<KeyValueInput, KeyValueOutput>> history)
    {
        for (var i = 0; i < history.Count; i++)
        {
            var op = history[i];
            if (op.Input.Kind != KeyValueOperationKind.Get)
            {
                continue;
            }
            var earlierWrites = history.Where(w => w.Input.Kind == KeyValueOperationKind.Put && w.Input.Key == op.Input.Key &&
                                                   w.HasReturned && w.ReturnTimestamp < op.CallTimestamp).OrderBy(w => w.ReturnTimestamp).ToList();
            // Two writes completed before the read, the second after the first: the first's value is stale.
            if (earlierWrites.Count >= 2 && earlierWrites[^1].CallTimestamp > earlierWrites[0].ReturnTimestamp &&
                op.Output.Value != earlierWrites[0].Input.Value)
            {
                return i;
            }
        }
        return -1;
    }

    private static List<Operation<KeyValueInput, KeyValueOutput>> ToHistory(IReadOnlyList<ClientOperation> operations)
    {
        var history = new List<Operation<KeyValueInput, KeyValueOutput>>();
        foreach (var op in operations)
        {
            var key = op.Key.ToString(CultureInfo.InvariantCulture);
            switch (op.Kind, op.Outcome)
            {
                case (OperationKind.Write, OperationOutcome.Ok):
                    history.Add(new(op.ClientId, new KeyValueInput(KeyValueOperationKind.Put, key, Value(op.Value)),
                        KeyValueOutput.Completed(""), op.InvokeMicros, op.CompleteMicros));
                    break;
                case (OperationKind.Write, OperationOutcome.Unknown):
                case (OperationKind.Write, OperationOutcome.Pending):
                    history.Add(new(op.ClientId, new KeyValueInput(KeyValueOperationKind.Put, key, Value(op.Value)),
                        KeyValueOutput.Unknown, op.InvokeMicros, Operation<KeyValueInput, KeyValueOutput>.NeverReturned));
                    break;
                case (OperationKind.Read, OperationOutcome.Ok):
                    history.Add(new(op.ClientId, new KeyValueInput(KeyValueOperationKind.Get, key),
                        KeyValueOutput.Completed(op.ResultValue == 0 ? "" : Value(op.ResultValue)), op.InvokeMicros, op.CompleteMicros));
                    break;
                default:
                    // Failed writes definitely did not happen; failed reads observed nothing.
                    break;
            }
        }
        return history;
    }

    private static string Value(ulong value) => value.ToString(CultureInfo.InvariantCulture);
}
