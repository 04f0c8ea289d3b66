namespace Parley.Checker.Search;

/// <summary>The verdict on a whole history and on each of its partitions (smallest first).</summary>
public sealed class CheckResult
{
    public required Verdict Verdict { get; init; }

    public required IReadOnlyList<PartitionResult> Partitions { get; init; }

    public required TimeSpan Elapsed { get; init; }

    /// <summary>The failing partition with the fewest operations, if any.</summary>
    public PartitionResult? SmallestViolation =>
        Partitions.Where(partition => partition.Verdict == Verdict.NotLinearizable)
            .OrderBy(partition => partition.Operations.Count)
            .FirstOrDefault();
}
