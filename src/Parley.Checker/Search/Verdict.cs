namespace Parley.Checker.Search;

/// <summary>Outcome of a linearizability check.</summary>
public enum Verdict
{
    /// <summary>Some order of the operations, consistent with real time, is a legal sequential run.</summary>
    Linearizable,

    /// <summary>No such order exists: a correctness violation.</summary>
    NotLinearizable,

    /// <summary>The time, step or memory budget ran out before either was proven: no violation found, not a pass.</summary>
    Unknown,
}
