using System.Diagnostics;

namespace Parley.Checker.Search;

/// <summary>
/// Decides whether a history is linearizable with respect to a model. Partitions the history by key when
/// the model allows it, checks partitions smallest first and in parallel, and stops early once a
/// violation is proven: larger partitions are abandoned, smaller ones still run so that the violation
/// reported is the smallest one.
/// </summary>
public static class LinearizabilityChecker
{
    /// <summary>Checks a history against a deterministic model.</summary>
    public static CheckResult Check<TState, TInput, TOutput>(
        IModel<TState, TInput, TOutput> model,
        IReadOnlyList<Operation<TInput, TOutput>> history,
        CheckOptions? options = null)
    {
        options ??= new CheckOptions();
        var stopwatch = Stopwatch.StartNew();
        var partitions = Partition(model, history);
        var results = new PartitionResult[partitions.Count];

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken);
        if (options.Timeout != Timeout.InfiniteTimeSpan)
        {
            budget.CancelAfter(options.Timeout);
        }

        var smallestViolationOperations = int.MaxValue;
        var nextPartition = -1;
        void Work()
        {
            for (var index = Interlocked.Increment(ref nextPartition); index < partitions.Count; index = Interlocked.Increment(ref nextPartition))
            {
                var (key, operations) = partitions[index];
                var size = operations.Count;
                SearchStopReason PollStop()
                {
                    if (budget.IsCancellationRequested)
                    {
                        return SearchStopReason.Timeout;
                    }

                    return Volatile.Read(ref smallestViolationOperations) < size ? SearchStopReason.Superseded : SearchStopReason.None;
                }

                var limits = new SearchLimits(options.StepsMaxPerPartition, options.CacheEntriesMaxPerPartition, PollStop);
                results[index] = CheckPartition(model, key, operations, limits);
                if (results[index].Verdict == Verdict.NotLinearizable)
                {
                    InterlockedMin(ref smallestViolationOperations, size);
                }
            }
        }

        var workerCount = Math.Clamp(options.ParallelPartitionsMax, 1, Math.Max(1, partitions.Count));
        var workers = new Task[workerCount - 1];
        for (var worker = 0; worker < workers.Length; worker++)
        {
            workers[worker] = Task.Run(Work);
        }

        Work();
        Task.WaitAll(workers);

        return new CheckResult
        {
            Verdict = Combine(results),
            Partitions = results,
            Elapsed = stopwatch.Elapsed,
        };
    }

    /// <summary>Checks a history against a non-deterministic model through its power-set model.</summary>
    public static CheckResult Check<TState, TInput, TOutput>(
        INondeterministicModel<TState, TInput, TOutput> model,
        IReadOnlyList<Operation<TInput, TOutput>> history,
        CheckOptions? options = null) =>
        Check(new PowerSetModel<TState, TInput, TOutput>(model), history, options);

    private static List<(string? Key, List<Operation<TInput, TOutput>> Operations)> Partition<TState, TInput, TOutput>(
        IModel<TState, TInput, TOutput> model,
        IReadOnlyList<Operation<TInput, TOutput>> history)
    {
        if (model is not IPartitionableModel<TInput> partitionable)
        {
            return [(null, history.ToList())];
        }

        var byKey = new Dictionary<string, List<Operation<TInput, TOutput>>>(StringComparer.Ordinal);
        foreach (var operation in history)
        {
            var key = partitionable.PartitionKey(operation.Input);
            if (!byKey.TryGetValue(key, out var operations))
            {
                operations = [];
                byKey.Add(key, operations);
            }

            operations.Add(operation);
        }

        // Smallest first: small partitions settle fast, and a violation found in one lets larger ones stop.
        return byKey.OrderBy(pair => pair.Value.Count).ThenBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => ((string?)pair.Key, pair.Value))
            .ToList();
    }

    private static PartitionResult CheckPartition<TState, TInput, TOutput>(
        IModel<TState, TInput, TOutput> model,
        string? key,
        List<Operation<TInput, TOutput>> operations,
        SearchLimits limits)
    {
        var stopwatch = Stopwatch.StartNew();
        var summaries = operations.Select(operation => new OperationSummary(
            operation.ClientId,
            operation.CallTimestamp,
            operation.ReturnTimestamp,
            model.DescribeOperation(operation.Input, operation.Output),
            operation.SourceLine)).ToArray();

        PartitionOutcome<TState> outcome;
        try
        {
            outcome = PartitionSearch.Run(model, operations, limits);
        }
        catch (InvalidOperationException exception)
        {
            // A model limit (e.g. power-set size) is a budget, not a bug in the history.
            return new PartitionResult
            {
                Key = key,
                Verdict = Verdict.Unknown,
                StopReason = SearchStopReason.ModelLimit,
                Operations = summaries,
                LongestLinearization = [],
                BlockingOperation = -1,
                StateAfterLongest = exception.Message,
                BlockedCandidates = [],
                Steps = 0,
                CacheEntries = 0,
                Elapsed = stopwatch.Elapsed,
            };
        }

        var candidates = outcome.Verdict == Verdict.NotLinearizable
            ? FindBlockedCandidates(model, operations, outcome)
            : [];
        return new PartitionResult
        {
            Key = key,
            Verdict = outcome.Verdict,
            StopReason = outcome.StopReason,
            Operations = summaries,
            LongestLinearization = outcome.LongestLinearization,
            BlockingOperation = outcome.BlockingOperation,
            StateAfterLongest = model.DescribeState(outcome.StateAfterLongest),
            BlockedCandidates = candidates,
            Steps = outcome.Steps,
            CacheEntries = outcome.CacheEntries,
            Elapsed = stopwatch.Elapsed,
        };
    }

    // The candidates at the blocking point are the operations not yet linearized whose call comes before the
    // blocking operation's return (calls sort before returns on equal timestamps).
    private static List<BlockedCandidate> FindBlockedCandidates<TState, TInput, TOutput>(
        IModel<TState, TInput, TOutput> model,
        List<Operation<TInput, TOutput>> operations,
        PartitionOutcome<TState> outcome)
    {
        var candidates = new List<BlockedCandidate>();
        if (outcome.BlockingOperation < 0)
        {
            return candidates;
        }

        var linearized = new HashSet<int>(outcome.LongestLinearization);
        var blockingReturn = operations[outcome.BlockingOperation].ReturnTimestamp;
        for (var index = 0; index < operations.Count; index++)
        {
            var operation = operations[index];
            if (linearized.Contains(index) || operation.CallTimestamp > blockingReturn)
            {
                continue;
            }

            var isLegal = model.TryStep(outcome.StateAfterLongest, operation.Input, operation.Output, out _);
            candidates.Add(new BlockedCandidate(index, isLegal));
        }

        return candidates;
    }

    private static Verdict Combine(PartitionResult[] results)
    {
        if (results.Any(result => result.Verdict == Verdict.NotLinearizable))
        {
            return Verdict.NotLinearizable;
        }

        return results.Any(result => result.Verdict == Verdict.Unknown) ? Verdict.Unknown : Verdict.Linearizable;
    }

    private static void InterlockedMin(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value < current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
