namespace Parley.Checker.Search;

/// <summary>Budgets for a check. Linearizability checking is NP-complete; every bound here turns "runs forever" into <see cref="Verdict.Unknown"/>.</summary>
public sealed record CheckOptions
{
    /// <summary>Wall-clock budget for the whole check (all partitions); <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for none.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Model steps per partition before giving up.</summary>
    public long StepsMaxPerPartition { get; init; } = 2_000_000_000;

    /// <summary>Memoised (linearized set, state) pairs per partition before giving up; bounds memory (tens of bytes each plus the state).</summary>
    public int CacheEntriesMaxPerPartition { get; init; } = 4_000_000;

    /// <summary>Partitions checked at once.</summary>
    public int ParallelPartitionsMax { get; init; } = Environment.ProcessorCount;

    /// <summary>Stops the check early (the verdict is then <see cref="Verdict.Unknown"/>).</summary>
    public CancellationToken CancellationToken { get; init; }
}
