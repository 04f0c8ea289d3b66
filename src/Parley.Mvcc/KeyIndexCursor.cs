namespace Parley.Mvcc;

/// <summary>A position in the key index; a struct so that scans allocate nothing.</summary>
internal struct KeyIndexCursor
{
    private KeyIndexLeaf? _leaf;
    private int _index;

    public KeyIndexCursor(KeyIndexLeaf? leaf, int index)
    {
        _leaf = leaf;
        _index = index;
        SkipExhaustedLeaves();
    }

    /// <summary>The record at the cursor, then advances; false past the last key.</summary>
    public bool TryNext(out KeyRecord record)
    {
        if (_leaf is null)
        {
            record = null!;
            return false;
        }
        record = _leaf.Records[_index];
        _index++;
        SkipExhaustedLeaves();
        return true;
    }

    private void SkipExhaustedLeaves()
    {
        while (_leaf is not null && _index >= _leaf.Count)
        {
            _leaf = _leaf.Next;
            _index = 0;
        }
    }
}
