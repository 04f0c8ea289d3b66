namespace Parley.Mvcc;

/// <summary>
/// Whether granted intervals cover a key or a whole range (etcd's unified range permissions). An interval is
/// <c>[Start, End)</c>; a null End is unbounded ("\0" as a range end); a single-key permission is <c>[key, key+"\0")</c>.
/// </summary>
internal static class AuthPermissionCoverage
{
    public static (byte[] Start, byte[]? End) Interval(byte[] key, byte[] rangeEnd)
    {
        if (rangeEnd.Length == 0)
        {
            var next = new byte[key.Length + 1];
            key.CopyTo(next, 0);
            return (key, next);
        }
        return (key, KeyBytes.IsFromKey(rangeEnd) ? null : rangeEnd);
    }

    public static bool Covers(List<(byte[] Start, byte[]? End)> granted, ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd)
    {
        bool unbounded = KeyBytes.IsFromKey(rangeEnd);
        if (rangeEnd.Length == 0 || (!unbounded && KeyBytes.Compare(rangeEnd, key) <= 0))
        {
            return Contains(granted, key);
        }
        // Walk from the start of the range, each step jumping to the farthest end of the intervals that hold the
        // cursor; at most one step per interval.
        byte[] cursor = key.ToArray();
        for (int step = 0; step <= granted.Count; step++)
        {
            byte[]? farthest = cursor;
            bool found = false;
            foreach ((byte[] start, byte[]? end) in granted)
            {
                if (KeyBytes.Compare(start, cursor) > 0 || (end is not null && KeyBytes.Compare(end, cursor) <= 0))
                {
                    continue;
                }
                found = true;
                if (end is null)
                {
                    return true;
                }
                if (KeyBytes.Compare(end, farthest) > 0)
                {
                    farthest = end;
                }
            }
            if (!found)
            {
                return false;
            }
            if (!unbounded && KeyBytes.Compare(farthest, rangeEnd) >= 0)
            {
                return true;
            }
            cursor = farthest;
        }
        return false;
    }

    private static bool Contains(List<(byte[] Start, byte[]? End)> granted, ReadOnlySpan<byte> key)
    {
        foreach ((byte[] start, byte[]? end) in granted)
        {
            if (KeyBytes.Compare(start, key) <= 0 && (end is null || KeyBytes.Compare(key, end) < 0))
            {
                return true;
            }
        }
        return false;
    }
}
