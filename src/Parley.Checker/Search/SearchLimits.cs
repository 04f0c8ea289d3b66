namespace Parley.Checker.Search;

/// <summary>Bounds on one partition's search.</summary>
internal readonly record struct SearchLimits(long StepsMax, int CacheEntriesMax, Func<SearchStopReason> PollStop)
{
    /// <summary>Model steps between two polls of <see cref="PollStop"/>; polling every step would dominate cheap models.</summary>
    public const int PollIntervalSteps = 1024;
}
