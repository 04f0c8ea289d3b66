namespace Parley.Checker.Search;

/// <summary>
/// The Wing and Gong search with Lowe's memoisation, as in porcupine's checkSingle. Call and return
/// entries sit in one doubly linked list in time order (arrays of indices, not objects). Scanning from the
/// head: a call whose step is legal and whose (linearized set, state) is new gets linearized, it and its
/// return are unlinked, and the scan restarts; reaching a return means the pending operations before it
/// were all tried, so the last choice is undone and the scan resumes after it.
/// </summary>
internal static class PartitionSearch
{
    private const int NoEntry = -1;

    public static PartitionOutcome<TState> Run<TState, TInput, TOutput>(
        IModel<TState, TInput, TOutput> model,
        IReadOnlyList<Operation<TInput, TOutput>> operations,
        SearchLimits limits)
    {
        var operationCount = operations.Count;
        var entryCount = operationCount * 2;
        var head = entryCount;
        var list = BuildEntryList(operations);
        var next = list.Next;
        var previous = list.Previous;

        var wordCount = Math.Max(1, (operationCount + 63) / 64);
        var linearized = new ulong[wordCount];
        ulong linearizedHash = 0;
        var cache = new LinearizationCache<TState>(wordCount, limits.CacheEntriesMax, model.AreEqual);

        var stackEntries = new int[operationCount];
        var stackStates = new TState[operationCount];
        var depth = 0;
        var state = model.InitialState;

        int[] longest = [];
        var longestLength = -1;
        var blockingOperation = NoEntry;
        var stateAfterLongest = state;
        long steps = 0;

        var entry = next[head];
        while (next[head] != NoEntry)
        {
            if (list.IsCall[entry])
            {
                var operation = list.OperationOf[entry];
                steps++;
                if (steps % SearchLimits.PollIntervalSteps == 0)
                {
                    var stop = Poll(limits, steps, cache);
                    if (stop != SearchStopReason.None)
                    {
                        return Stopped(stop, longest, blockingOperation, stateAfterLongest, steps, cache.Count);
                    }
                }

                var input = operations[operation].Input;
                var output = operations[operation].Output;
                if (model.TryStep(state, input, output, out var nextState))
                {
                    var candidateHash = linearizedHash ^ OperationKey(operation);
                    SetBit(linearized, operation);
                    if (cache.TryAdd(candidateHash ^ HashMixer.Mix(model.Hash(nextState)), linearized, nextState))
                    {
                        stackEntries[depth] = entry;
                        stackStates[depth] = state;
                        depth++;
                        state = nextState;
                        linearizedHash = candidateHash;
                        Lift(next, previous, entry, list.MatchOf[entry]);
                        entry = next[head];
                        continue;
                    }

                    ClearBit(linearized, operation);
                }

                entry = next[entry];
            }
            else
            {
                if (depth > longestLength)
                {
                    longestLength = depth;
                    longest = new int[depth];
                    for (var index = 0; index < depth; index++)
                    {
                        longest[index] = list.OperationOf[stackEntries[index]];
                    }

                    blockingOperation = list.OperationOf[entry];
                    stateAfterLongest = state;
                }

                if (depth == 0)
                {
                    return new PartitionOutcome<TState>
                    {
                        Verdict = Verdict.NotLinearizable,
                        StopReason = SearchStopReason.None,
                        LongestLinearization = longest,
                        BlockingOperation = blockingOperation,
                        StateAfterLongest = stateAfterLongest,
                        Steps = steps,
                        CacheEntries = cache.Count,
                    };
                }

                depth--;
                entry = stackEntries[depth];
                state = stackStates[depth];
                var undone = list.OperationOf[entry];
                ClearBit(linearized, undone);
                linearizedHash ^= OperationKey(undone);
                Unlift(next, previous, entry, list.MatchOf[entry]);
                entry = next[entry];
            }
        }

        var order = new int[depth];
        for (var index = 0; index < depth; index++)
        {
            order[index] = list.OperationOf[stackEntries[index]];
        }

        return new PartitionOutcome<TState>
        {
            Verdict = Verdict.Linearizable,
            StopReason = SearchStopReason.None,
            LongestLinearization = order,
            BlockingOperation = NoEntry,
            StateAfterLongest = state,
            Steps = steps,
            CacheEntries = cache.Count,
        };
    }

    /// <summary>Entries sorted by time, calls before returns on ties (closed intervals, as porcupine does).</summary>
    internal static EntryList BuildEntryList<TInput, TOutput>(IReadOnlyList<Operation<TInput, TOutput>> operations)
    {
        var operationCount = operations.Count;
        var entryCount = operationCount * 2;
        var events = new (long Timestamp, int IsReturn, int Operation)[entryCount];
        for (var operation = 0; operation < operationCount; operation++)
        {
            var current = operations[operation];
            if (current.ReturnTimestamp < current.CallTimestamp)
            {
                throw new ArgumentException($"operation {operation} (client {current.ClientId}) returns before it is called", nameof(operations));
            }

            events[operation * 2] = (current.CallTimestamp, 0, operation);
            events[(operation * 2) + 1] = (current.ReturnTimestamp, 1, operation);
        }

        Array.Sort(events);

        var list = new EntryList(entryCount);
        var callPosition = new int[operationCount];
        for (var position = 0; position < entryCount; position++)
        {
            var (_, isReturn, operation) = events[position];
            list.OperationOf[position] = operation;
            list.IsCall[position] = isReturn == 0;
            if (isReturn == 0)
            {
                callPosition[operation] = position;
            }
            else
            {
                list.MatchOf[callPosition[operation]] = position;
            }

            list.Next[position] = position + 1 < entryCount ? position + 1 : NoEntry;
            list.Previous[position] = position == 0 ? entryCount : position - 1;
        }

        list.Next[entryCount] = entryCount > 0 ? 0 : NoEntry;
        list.Previous[entryCount] = NoEntry;
        return list;
    }

    // The cache bound is checked here rather than on every insert, so it may overshoot by one poll interval.
    private static SearchStopReason Poll<TState>(SearchLimits limits, long steps, LinearizationCache<TState> cache)
    {
        if (steps >= limits.StepsMax)
        {
            return SearchStopReason.StepBudget;
        }

        if (cache.IsFull)
        {
            return SearchStopReason.CacheBudget;
        }

        return limits.PollStop();
    }

    private static PartitionOutcome<TState> Stopped<TState>(
        SearchStopReason reason, int[] longest, int blockingOperation, TState stateAfterLongest, long steps, int cacheEntries) =>
        new()
        {
            Verdict = Verdict.Unknown,
            StopReason = reason,
            LongestLinearization = longest,
            BlockingOperation = blockingOperation,
            StateAfterLongest = stateAfterLongest,
            Steps = steps,
            CacheEntries = cacheEntries,
        };

    // A call is never the last entry (its return follows it), so only the return's successor can be absent.
    private static void Lift(int[] next, int[] previous, int call, int ret)
    {
        next[previous[call]] = next[call];
        previous[next[call]] = previous[call];
        next[previous[ret]] = next[ret];
        if (next[ret] != NoEntry)
        {
            previous[next[ret]] = previous[ret];
        }
    }

    // Exact reverse of Lift; valid because lifts are undone in last-in, first-out order.
    private static void Unlift(int[] next, int[] previous, int call, int ret)
    {
        next[previous[ret]] = ret;
        if (next[ret] != NoEntry)
        {
            previous[next[ret]] = ret;
        }

        next[previous[call]] = call;
        previous[next[call]] = call;
    }

    // Zobrist hashing: the linearized set's hash is the XOR of per-operation keys, so it updates in O(1).
    private static ulong OperationKey(int operation) => HashMixer.Mix((ulong)operation + 0x9e3779b97f4a7c15UL);

    private static void SetBit(ulong[] words, int index) => words[index >> 6] |= 1UL << (index & 63);

    private static void ClearBit(ulong[] words, int index) => words[index >> 6] &= ~(1UL << (index & 63));
}
