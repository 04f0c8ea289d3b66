namespace Parley.Mvcc;

/// <summary>
/// A position in the key index, optionally bounded by an exclusive end key; a struct so that scans allocate
/// nothing. The end is located once per leaf (against the leaf's last key, and by a search in the leaf that holds
/// it) rather than compared with every record's key: reading each key's array is a cache miss per key.
/// </summary>
internal struct KeyIndexCursor
{
    private readonly byte[]? _end; // null = unbounded
    private KeyIndexLeaf? _leaf;
    private int _index;
    private int _limit; // positions of _leaf below the end

    public KeyIndexCursor(KeyIndexLeaf? leaf, int index, byte[]? end = null)
    {
        _end = end;
        _leaf = leaf;
        _index = index;
        _limit = 0;
        Settle();
    }

    /// <summary>The record at the cursor, then advances; false past the last key (or the end).</summary>
    public bool TryNext(out KeyRecord record)
    {
        if (_leaf is null)
        {
            record = null!;
            return false;
        }
        record = _leaf.Records[_index];
        _index++;
        if (_index >= _limit)
        {
            if (_limit < _leaf.Count)
            {
                _leaf = null; // the end lies in this leaf
            }
            else
            {
                _leaf = _leaf.Next;
                _index = 0;
                Settle();
            }
        }
        return true;
    }

    /// <summary>Moves on to the first leaf with a record at or after the position and below the end; null when none.</summary>
    private void Settle()
    {
        while (_leaf is not null)
        {
            _limit = EndPosition(_leaf);
            if (_index < _limit)
            {
                return;
            }
            if (_limit < _leaf.Count)
            {
                _leaf = null;
                return;
            }
            _leaf = _leaf.Next;
            _index = 0;
        }
    }

    /// <summary>The first position of leaf whose key is ≥ the end (Count when none).</summary>
    private readonly int EndPosition(KeyIndexLeaf leaf)
    {
        int count = leaf.Count;
        if (_end is null || count == 0 || KeyBytes.Compare(leaf.Records[count - 1].Key, _end) < 0)
        {
            return count;
        }
        // The end is in this leaf. It need not share the prefix of the leaf's fences (it was not routed here by a
        // descent), so the heads cannot be used: compare keys.
        int low = 0;
        int high = count - 1; // the last key is ≥ the end
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (KeyBytes.Compare(leaf.Records[middle].Key, _end) < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }
        return low;
    }
}
