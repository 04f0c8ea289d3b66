namespace Parley.Checker.Search;

/// <summary>
/// Turns a non-deterministic model into a deterministic one by the power-set construction (as porcupine
/// does): the state is the set of states the system may be in, a step is legal when any member can take
/// it, and the next set is the union of the members' successors.
/// </summary>
public sealed class PowerSetModel<TState, TInput, TOutput> : IModel<StateSet<TState>, TInput, TOutput>
{
    // Each unknown-outcome operation can double the set; past this the search would be hopeless anyway,
    // so fail fast instead of exhausting memory.
    private const int MembersMax = 1 << 16;

    private readonly INondeterministicModel<TState, TInput, TOutput> _inner;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public PowerSetModel(INondeterministicModel<TState, TInput, TOutput> inner)
    {
        _inner = inner;
        var initial = inner.InitialState;
        InitialState = new StateSet<TState>([initial], HashMixer.Mix(inner.Hash(initial)));
    }

    /// <inheritdoc />
    public StateSet<TState> InitialState { get; }

    /// <inheritdoc />
    public bool TryStep(StateSet<TState> state, TInput input, TOutput output, out StateSet<TState> nextState)
    {
        var successors = new List<TState>(state.Members.Count * 2);
        foreach (var member in state.Members)
        {
            _inner.Step(member, input, output, successors);
        }

        if (successors.Count == 0)
        {
            nextState = state;
            return false;
        }

        nextState = Deduplicate(successors);
        return true;
    }

    /// <inheritdoc />
    public bool AreEqual(StateSet<TState> left, StateSet<TState> right)
    {
        if (ReferenceEquals(left, right))
        {
            return true;
        }

        if (left.Hash != right.Hash || left.Members.Count != right.Members.Count)
        {
            return false;
        }

        // Both sides are de-duplicated, so equal sizes plus inclusion means equal sets.
        foreach (var member in left.Members)
        {
            if (!Contains(right.Members, member))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public ulong Hash(StateSet<TState> state) => state.Hash;

    /// <inheritdoc />
    public string DescribeOperation(TInput input, TOutput output) => _inner.DescribeOperation(input, output);

    /// <inheritdoc />
    public string DescribeState(StateSet<TState> state)
    {
        if (state.Members.Count == 1)
        {
            return _inner.DescribeState(state.Members[0]);
        }

        return "one of {" + string.Join(" | ", state.Members.Select(_inner.DescribeState)) + "}";
    }

    private StateSet<TState> Deduplicate(List<TState> successors)
    {
        var distinct = new List<TState>(successors.Count);
        ulong hash = 0;
        foreach (var candidate in successors)
        {
            if (!Contains(distinct, candidate))
            {
                distinct.Add(candidate);
                hash ^= HashMixer.Mix(_inner.Hash(candidate));
            }
        }

        if (distinct.Count > MembersMax)
        {
            throw new InvalidOperationException($"power-set state grew past {MembersMax} members; too many unknown-outcome operations are concurrent");
        }

        return new StateSet<TState>(distinct.ToArray(), hash);
    }

    private bool Contains(IReadOnlyList<TState> members, TState candidate)
    {
        var candidateHash = _inner.Hash(candidate);
        foreach (var member in members)
        {
            if (_inner.Hash(member) == candidateHash && _inner.AreEqual(member, candidate))
            {
                return true;
            }
        }

        return false;
    }
}
