namespace Parley.Checker.Search;

/// <summary>What the search of one partition found, in terms of indices into that partition's operations.</summary>
internal sealed class PartitionOutcome<TState>
{
    public required Verdict Verdict { get; init; }

    public required SearchStopReason StopReason { get; init; }

    /// <summary>The longest partial linearization reached (every operation when linearizable), in order.</summary>
    public required int[] LongestLinearization { get; init; }

    /// <summary>Operation whose return the longest partial linearization could not get past; -1 when linearizable.</summary>
    public required int BlockingOperation { get; init; }

    /// <summary>Model state after <see cref="LongestLinearization"/>.</summary>
    public required TState StateAfterLongest { get; init; }

    public required long Steps { get; init; }

    public required int CacheEntries { get; init; }
}
