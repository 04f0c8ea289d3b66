namespace Parley.Checker.Search;

/// <summary>Why a partition's search ended without a verdict.</summary>
public enum SearchStopReason
{
    /// <summary>The search finished with a verdict.</summary>
    None,

    /// <summary>The check's time budget ran out (or the caller cancelled).</summary>
    Timeout,

    /// <summary>The step budget ran out.</summary>
    StepBudget,

    /// <summary>The memoisation cache reached its size bound.</summary>
    CacheBudget,

    /// <summary>A smaller partition already proved the history not linearizable, so this one was abandoned.</summary>
    Superseded,

    /// <summary>The model gave up (for example its power-set state grew past its bound).</summary>
    ModelLimit,
}
