namespace Parley.Mvcc;

/// <summary>
/// A delete's key interval for the txn duplicate-key rule: [Begin, End), where a single-key delete
/// is [key, key + "\0"). Mirrors etcd's adt interval semantics, under which an interval whose end is
/// not above its begin — notably a from-key delete (end "\0") — overlaps no put.
/// </summary>
internal readonly record struct KeyInterval(byte[] Begin, byte[] End)
{
    public static KeyInterval ForDelete(DeleteRangeRequest request)
    {
        if (request.RangeEnd.Length != 0)
        {
            return new KeyInterval(request.Key, request.RangeEnd);
        }
        byte[] end = new byte[request.Key.Length + 1];
        request.Key.CopyTo(end, 0);
        return new KeyInterval(request.Key, end);
    }

    public bool Contains(byte[] key) =>
        KeyBytes.Compare(Begin, key) <= 0 && KeyBytes.Compare(key, End) < 0;
}
