namespace Parley.Mvcc;

/// <summary>
/// Walks the records of [key, rangeEnd) with etcd's conventions: empty end = the one key,
/// "\0" = every key ≥ key, an end ≤ key = nothing. A struct: scans allocate nothing.
/// </summary>
internal struct KeyRangeScan
{
    private KeyIndexCursor _cursor;
    private KeyRecord? _single;
    private readonly bool _isSingle;

    public KeyRangeScan(KeyIndex index, byte[] key, byte[] rangeEnd)
    {
        if (rangeEnd.Length == 0)
        {
            _isSingle = true;
            _single = index.Find(key);
            _cursor = default;
            return;
        }
        _isSingle = false;
        _single = null;
        _cursor = index.Seek(key, KeyBytes.IsFromKey(rangeEnd) ? null : rangeEnd);
    }

    public bool TryNext(out KeyRecord record)
    {
        if (_isSingle)
        {
            record = _single!;
            _single = null;
            return record is not null;
        }
        return _cursor.TryNext(out record);
    }
}
