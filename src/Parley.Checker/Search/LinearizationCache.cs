namespace Parley.Checker.Search;

/// <summary>
/// Lowe's memoisation: the set of (linearized operations, model state) pairs the search has already
/// reached. Two paths that linearized the same set of operations and reached equal states have the same
/// future, so the second is pruned. Open addressing over flat arrays: one cache insert per search step
/// must not allocate a bitset object each time.
/// </summary>
internal sealed class LinearizationCache<TState>
{
    private const int InitialEntriesCapacity = 1024;

    private readonly int _wordsPerBitset;
    private readonly int _entriesMax;
    private readonly Func<TState, TState, bool> _statesEqual;
    private ulong[] _entryHashes = new ulong[InitialEntriesCapacity];
    private TState[] _entryStates = new TState[InitialEntriesCapacity];
    private ulong[] _entryBitsets;

    // Slot holds entry index + 1; 0 is empty. Power-of-two length, kept at most half full.
    private int[] _slots = new int[InitialEntriesCapacity * 2];

    public LinearizationCache(int wordsPerBitset, int entriesMax, Func<TState, TState, bool> statesEqual)
    {
        _wordsPerBitset = wordsPerBitset;
        _entriesMax = entriesMax;
        _statesEqual = statesEqual;
        _entryBitsets = new ulong[InitialEntriesCapacity * wordsPerBitset];
    }

    public int Count { get; private set; }

    public bool IsFull => Count >= _entriesMax;

    /// <summary>Adds the pair unless an equal one is present; returns whether it was added.</summary>
    public bool TryAdd(ulong hash, ReadOnlySpan<ulong> bitset, TState state)
    {
        var mask = _slots.Length - 1;
        var slot = (int)(hash & (ulong)mask);
        while (_slots[slot] != 0)
        {
            var entry = _slots[slot] - 1;
            if (_entryHashes[entry] == hash
                && bitset.SequenceEqual(_entryBitsets.AsSpan(entry * _wordsPerBitset, _wordsPerBitset))
                && _statesEqual(_entryStates[entry], state))
            {
                return false;
            }

            slot = (slot + 1) & mask;
        }

        Append(hash, bitset, state);
        _slots[slot] = Count;
        if (Count * 2 > _slots.Length)
        {
            Rehash();
        }

        return true;
    }

    private void Append(ulong hash, ReadOnlySpan<ulong> bitset, TState state)
    {
        if (Count == _entryHashes.Length)
        {
            var capacity = _entryHashes.Length * 2;
            Array.Resize(ref _entryHashes, capacity);
            Array.Resize(ref _entryStates, capacity);
            Array.Resize(ref _entryBitsets, capacity * _wordsPerBitset);
        }

        _entryHashes[Count] = hash;
        _entryStates[Count] = state;
        bitset.CopyTo(_entryBitsets.AsSpan(Count * _wordsPerBitset, _wordsPerBitset));
        Count++;
    }

    private void Rehash()
    {
        var slots = new int[_slots.Length * 2];
        var mask = slots.Length - 1;
        for (var entry = 0; entry < Count; entry++)
        {
            var slot = (int)(_entryHashes[entry] & (ulong)mask);
            while (slots[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }

            slots[slot] = entry + 1;
        }

        _slots = slots;
    }
}
