using Parley.Checker.Models.Etcd;
using Parley.Checker.Models.KeyValue;
using Parley.Checker.Models.Register;
using Parley.Checker.Search;

namespace Parley.Checker.Tests;

/// <summary>
/// The checker against histories generated from a sequential model (linearizable by construction), and
/// the same histories with one read corrupted so that no ordering allows it.
/// </summary>
public sealed class GeneratedHistoryTests
{
    private const int SeedCount = 40;
    private const string NeverWritten = "never-written";

    private static readonly CheckOptions Options = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static TheoryData<int> Seeds() => new(Enumerable.Range(1, SeedCount));

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Checker_AcceptsRegisterHistory_GeneratedFromSequentialRun(int seed)
    {
        var history = GeneratedHistories.Register(seed, operationCount: 120, clientCount: 5, spreadMax: 40);

        var result = LinearizabilityChecker.Check(RegisterModel.Instance, history, Options);

        Assert.Equal(Verdict.Linearizable, result.Verdict);
        Assert.Equal(history.Count, result.Partitions.Single().LongestLinearization.Count);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Checker_FindsViolation_WhenRegisterReadReturnsNeverWrittenValue(int seed)
    {
        var history = GeneratedHistories.Register(seed, operationCount: 120, clientCount: 5, spreadMax: 40);
        var read = PickRead(history, seed, operation => operation.Input.Kind == RegisterOperationKind.Read);
        history[read] = history[read] with { Output = RegisterOutput.ReadValue(NeverWritten) };

        var result = LinearizabilityChecker.Check(RegisterModel.Instance, history, Options);

        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Checker_FindsViolation_WhenRegisterReadReturnsValueWrittenAfterItReturned(int seed)
    {
        var history = GeneratedHistories.Register(seed, operationCount: 120, clientCount: 5, spreadMax: 40);
        // A read in the first half has effective writes starting after it returned (asserted below).
        var read = PickRead(history.Take(history.Count / 2).ToList(), seed, operation => operation.Input.Kind == RegisterOperationKind.Read);
        var laterWrite = history.FindIndex(operation =>
            operation.Input.Kind != RegisterOperationKind.Read
            && operation.CallTimestamp > history[read].ReturnTimestamp
            && (operation.Input.Kind == RegisterOperationKind.Write || operation.Output.Succeeded));
        Assert.True(laterWrite >= 0, "the generated history has an effective write after the read");
        history[read] = history[read] with { Output = RegisterOutput.ReadValue(history[laterWrite].Input.Value) };

        var result = LinearizabilityChecker.Check(RegisterModel.Instance, history, Options);

        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Checker_AcceptsKeyValueHistory_GeneratedFromSequentialRun(int seed)
    {
        var history = GeneratedHistories.KeyValue(seed, operationCount: 400, clientCount: 10, keyCount: 4, spreadMax: 60);

        var result = LinearizabilityChecker.Check(KeyValueModel.Instance, history, Options);

        Assert.Equal(Verdict.Linearizable, result.Verdict);
        Assert.Equal(4, result.Partitions.Count);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Checker_FindsViolation_WhenKeyValueGetReturnsNeverWrittenValue(int seed)
    {
        var history = GeneratedHistories.KeyValue(seed, operationCount: 400, clientCount: 10, keyCount: 4, spreadMax: 60);
        var read = PickRead(history, seed, operation => operation.Input.Kind == KeyValueOperationKind.Get);
        history[read] = history[read] with { Output = KeyValueOutput.Completed(NeverWritten) };

        var result = LinearizabilityChecker.Check(KeyValueModel.Instance, history, Options);

        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        Assert.Equal(history[read].Input.Key, result.SmallestViolation!.Key);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Checker_AcceptsEtcdHistory_GeneratedFromSequentialRunWithUnknownOutcomes(int seed)
    {
        var history = GeneratedHistories.Etcd(seed, operationCount: 150, clientCount: 4, keyCount: 3, spreadMax: 30);

        var result = LinearizabilityChecker.Check(EtcdModel.Instance, history, Options);

        Assert.Equal(Verdict.Linearizable, result.Verdict);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Checker_FindsViolation_WhenEtcdGetReturnsNeverWrittenValue(int seed)
    {
        // Shorter than the linearizable case: proving a violation explores every order before the corrupted
        // read, and each pending unknown-outcome write multiplies those orders (150 operations can take minutes).
        var history = GeneratedHistories.Etcd(seed, operationCount: 80, clientCount: 4, keyCount: 3, spreadMax: 30);
        var read = PickRead(history, seed, operation => operation.Input.Kind == EtcdRequestKind.Get);
        history[read] = history[read] with { Output = history[read].Output with { Value = NeverWritten } };

        var result = LinearizabilityChecker.Check(EtcdModel.Instance, history, Options);

        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
    }

    private static int PickRead<TInput, TOutput>(List<Operation<TInput, TOutput>> history, int seed, Func<Operation<TInput, TOutput>, bool> isRead)
    {
        var reads = Enumerable.Range(0, history.Count).Where(index => isRead(history[index])).ToList();
        Assert.NotEmpty(reads);
        return reads[seed * 7919 % reads.Count];
    }
}
