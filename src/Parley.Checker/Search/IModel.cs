namespace Parley.Checker.Search;

/// <summary>
/// An executable sequential specification. <see cref="TryStep"/> must be pure: it returns a new state and
/// never mutates the one it was given, because the search keeps old states for backtracking and caching.
/// </summary>
public interface IModel<TState, TInput, TOutput>
{
    /// <summary>The state before any operation.</summary>
    TState InitialState { get; }

    /// <summary>Whether <paramref name="output"/> is a legal response to <paramref name="input"/> in <paramref name="state"/>, and the state after it.</summary>
    bool TryStep(TState state, TInput input, TOutput output, out TState nextState);

    /// <summary>State equality; equal states must have equal <see cref="Hash"/>.</summary>
    bool AreEqual(TState left, TState right);

    /// <summary>A hash consistent with <see cref="AreEqual"/>; it narrows cache look-ups.</summary>
    ulong Hash(TState state);

    /// <summary>Human-readable operation, for explanations and timelines.</summary>
    string DescribeOperation(TInput input, TOutput output);

    /// <summary>Human-readable state, for explanations.</summary>
    string DescribeState(TState state);
}
