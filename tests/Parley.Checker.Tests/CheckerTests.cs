using Parley.Checker.Models.KeyValue;
using Parley.Checker.Models.Register;
using Parley.Checker.Search;
using static Parley.Checker.Tests.History;

namespace Parley.Checker.Tests;

/// <summary>Claims about the search itself: interval semantics, explanations, budgets, partitioning.</summary>
public sealed class CheckerTests
{
    [Fact]
    public void Checker_TreatsIntervalsAsClosed_SoOperationsSharingAnEndpointAreConcurrent()
    {
        // The read is called at the instant the write returns, and reads the old value: legal only if
        // the two count as concurrent (porcupine's convention, which avoids false alarms from equal clock readings).
        var history = new[]
        {
            Register(1, RegisterInput.Write("1"), RegisterOutput.Written, 0, 10),
            Register(2, RegisterInput.Read(), RegisterOutput.ReadValue(null), 10, 20),
        };

        var result = LinearizabilityChecker.Check(RegisterModel.Instance, history);

        Assert.Equal(Verdict.Linearizable, result.Verdict);
    }

    [Fact]
    public void Checker_FindsViolation_WhenReadStartsAfterWriteReturnedButSeesOldValue()
    {
        var history = new[]
        {
            Register(1, RegisterInput.Write("1"), RegisterOutput.Written, 0, 10),
            Register(2, RegisterInput.Read(), RegisterOutput.ReadValue(null), 11, 20),
        };

        var result = LinearizabilityChecker.Check(RegisterModel.Instance, history);

        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
    }

    [Fact]
    public void Explanation_PointsAtTheReadThatNoOrderAllows()
    {
        var history = new[]
        {
            Register(1, RegisterInput.Write("1"), RegisterOutput.Written, 0, 10),
            Register(2, RegisterInput.Write("2"), RegisterOutput.Written, 5, 15),
            Register(1, RegisterInput.Read(), RegisterOutput.ReadValue("3"), 20, 30),
        };

        var violation = LinearizabilityChecker.Check(RegisterModel.Instance, history).SmallestViolation;

        Assert.NotNull(violation);
        Assert.Equal(2, violation.BlockingOperation);
        Assert.Equal(2, violation.LongestLinearization.Count);
        var candidate = Assert.Single(violation.BlockedCandidates);
        Assert.Equal(new BlockedCandidate(2, IsLegalNext: false), candidate);
    }

    [Fact]
    public void Checker_ReportsSmallestFailingKey_WhenSeveralKeysFail()
    {
        var history = new List<Operation<KeyValueInput, KeyValueOutput>>();
        for (var index = 0; index < 20; index++)
        {
            history.Add(new(1, new KeyValueInput(KeyValueOperationKind.Append, "big", "x"), KeyValueOutput.Completed(string.Empty), index * 10, (index * 10) + 5));
        }

        history.Add(new(2, new KeyValueInput(KeyValueOperationKind.Get, "big"), KeyValueOutput.Completed("never"), 300, 310));
        history.Add(new(3, new KeyValueInput(KeyValueOperationKind.Put, "small", "a"), KeyValueOutput.Completed(string.Empty), 0, 5));
        history.Add(new(3, new KeyValueInput(KeyValueOperationKind.Get, "small"), KeyValueOutput.Completed("b"), 10, 15));

        var result = LinearizabilityChecker.Check(KeyValueModel.Instance, history);

        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        Assert.Equal("small", result.SmallestViolation!.Key);
    }

    [Fact]
    public void Checker_ReturnsUnknown_WhenStepBudgetRunsOut()
    {
        var history = GeneratedHistories.Register(seed: 1, operationCount: 3000, clientCount: 5, spreadMax: 40);

        var result = LinearizabilityChecker.Check(RegisterModel.Instance, history, new CheckOptions { StepsMaxPerPartition = 1000 });

        Assert.Equal(Verdict.Unknown, result.Verdict);
        Assert.Equal(SearchStopReason.StepBudget, result.Partitions.Single().StopReason);
    }

    [Fact]
    public void Checker_ReturnsUnknown_WhenCacheBudgetRunsOut()
    {
        var history = GeneratedHistories.Register(seed: 1, operationCount: 3000, clientCount: 5, spreadMax: 40);

        var result = LinearizabilityChecker.Check(RegisterModel.Instance, history, new CheckOptions { CacheEntriesMaxPerPartition = 100 });

        Assert.Equal(Verdict.Unknown, result.Verdict);
        Assert.Equal(SearchStopReason.CacheBudget, result.Partitions.Single().StopReason);
    }

    [Fact]
    public void Checker_ReturnsUnknown_WhenCancelled()
    {
        var history = GeneratedHistories.Register(seed: 1, operationCount: 3000, clientCount: 5, spreadMax: 40);
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        var result = LinearizabilityChecker.Check(RegisterModel.Instance, history, new CheckOptions { CancellationToken = cancellation.Token });

        Assert.Equal(Verdict.Unknown, result.Verdict);
        Assert.Equal(SearchStopReason.Timeout, result.Partitions.Single().StopReason);
    }

    [Fact]
    public void Checker_AcceptsEmptyHistory()
    {
        var result = LinearizabilityChecker.Check(RegisterModel.Instance, Array.Empty<Operation<RegisterInput, RegisterOutput>>());

        Assert.Equal(Verdict.Linearizable, result.Verdict);
    }

    [Fact]
    public void Checker_LetsUnknownWriteTakeEffectLongAfterItsCall()
    {
        // The write's client gave up at once, but the write landed later: a read between saw the old value.
        var history = new[]
        {
            new Operation<RegisterInput, RegisterOutput>(1, RegisterInput.Write("1"), RegisterOutput.Unknown, 0, Operation<RegisterInput, RegisterOutput>.NeverReturned),
            Register(2, RegisterInput.Read(), RegisterOutput.ReadValue(null), 50, 60),
            Register(2, RegisterInput.Read(), RegisterOutput.ReadValue("1"), 70, 80),
            Register(2, RegisterInput.Read(), RegisterOutput.ReadValue("1"), 90, 100),
        };

        var result = LinearizabilityChecker.Check(RegisterModel.Instance, history);

        Assert.Equal(Verdict.Linearizable, result.Verdict);
    }
}
