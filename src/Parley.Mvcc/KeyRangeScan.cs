namespace Parley.Mvcc;

/// <summary>
/// Walks the records of [key, rangeEnd) with etcd's conventions: empty end = the one key,
/// "\0" = every key ≥ key, an end ≤ key = nothing. A struct: scans allocate nothing.
/// </summary>
internal struct KeyRangeScan
{
    private readonly byte[]? _end; // null = unbounded
    private KeyIndexCursor _cursor;
    private KeyRecord? _single;
    private readonly bool _isSingle;

    public KeyRangeScan(KeyIndex index, byte[] key, byte[] rangeEnd)
    {
        if (rangeEnd.Length == 0)
        {
            _isSingle = true;
            _single = index.Find(key);
            _end = null;
            _cursor = default;
            return;
        }
        _isSingle = false;
        _single = null;
        _end = KeyBytes.IsFromKey(rangeEnd) ? null : rangeEnd;
        _cursor = index.Seek(key);
    }

    public bool TryNext(out KeyRecord record)
    {
        if (_isSingle)
        {
            record = _single!;
            _single = null;
            return record is not null;
        }
        if (!_cursor.TryNext(out record))
        {
            return false;
        }
        if (_end is not null && KeyBytes.Compare(record.Key, _end) >= 0)
        {
            record = null!;
            _cursor = default;
            return false;
        }
        return true;
    }
}
