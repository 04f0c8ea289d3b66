namespace Parley.Checker.Search;

/// <summary>
/// A sequential specification in which one step may lead to several states, e.g. a write whose outcome
/// the client never learned may or may not have been applied. Turn it into an ordinary model with
/// <see cref="PowerSetModel{TState, TInput, TOutput}"/>.
/// </summary>
public interface INondeterministicModel<TState, TInput, TOutput>
{
    /// <summary>The state before any operation.</summary>
    TState InitialState { get; }

    /// <summary>Adds every state that can follow <paramref name="state"/> when <paramref name="input"/> returns <paramref name="output"/>; adds none when the output is illegal. Must be pure.</summary>
    void Step(TState state, TInput input, TOutput output, ICollection<TState> nextStates);

    /// <summary>State equality; equal states must have equal <see cref="Hash"/>.</summary>
    bool AreEqual(TState left, TState right);

    /// <summary>A hash consistent with <see cref="AreEqual"/>.</summary>
    ulong Hash(TState state);

    /// <summary>Human-readable operation.</summary>
    string DescribeOperation(TInput input, TOutput output);

    /// <summary>Human-readable state.</summary>
    string DescribeState(TState state);
}
