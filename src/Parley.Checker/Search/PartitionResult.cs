namespace Parley.Checker.Search;

/// <summary>The verdict on one partition (one key, or the whole history) and, on a violation, where it got stuck.</summary>
public sealed class PartitionResult
{
    /// <summary>The partition key; null when the model is not partitioned.</summary>
    public required string? Key { get; init; }

    public required Verdict Verdict { get; init; }

    public required SearchStopReason StopReason { get; init; }

    /// <summary>This partition's operations, in input order; other members refer to them by index.</summary>
    public required IReadOnlyList<OperationSummary> Operations { get; init; }

    /// <summary>The longest order the search could build (all operations when linearizable).</summary>
    public required IReadOnlyList<int> LongestLinearization { get; init; }

    /// <summary>The operation whose return the longest partial linearization could not get past; -1 when none.</summary>
    public required int BlockingOperation { get; init; }

    /// <summary>Model state after <see cref="LongestLinearization"/>.</summary>
    public required string StateAfterLongest { get; init; }

    /// <summary>Operations that could have come next at the blocking point; empty unless not linearizable.</summary>
    public required IReadOnlyList<BlockedCandidate> BlockedCandidates { get; init; }

    public required long Steps { get; init; }

    public required int CacheEntries { get; init; }

    public required TimeSpan Elapsed { get; init; }
}
