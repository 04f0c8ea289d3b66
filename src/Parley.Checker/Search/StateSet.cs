namespace Parley.Checker.Search;

/// <summary>
/// A de-duplicated, immutable set of model states: the state of a <see cref="PowerSetModel{TState, TInput, TOutput}"/>.
/// Its hash is the XOR of member hashes so that it does not depend on member order.
/// </summary>
public sealed class StateSet<TState>
{
    internal StateSet(TState[] members, ulong hash)
    {
        Members = members;
        Hash = hash;
    }

    /// <summary>The distinct states the system may be in.</summary>
    public IReadOnlyList<TState> Members { get; }

    /// <summary>Order-independent hash of the members.</summary>
    public ulong Hash { get; }
}
