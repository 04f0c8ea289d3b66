namespace Parley.Mvcc;

/// <summary>
/// What <see cref="MvccStore.ReadEvents"/> reads: events from <see cref="StartRevision"/> on,
/// optionally only for [Key, RangeEnd) (empty Key = every key; empty RangeEnd = one key; "\0" = every
/// key ≥ Key), at most about <see cref="EventsMax"/> events but never splitting a revision.
/// <see cref="EventBytesMax"/> (key + value bytes of the gathered events and their previous values) and
/// <see cref="ChangesScannedMax"/> (change-log entries looked at, matching or not) bound one read further,
/// also only between revisions, so that a narrow watcher far behind cannot make one read scan the whole log.
/// </summary>
public readonly record struct EventQuery(
    long StartRevision,
    byte[]? Key,
    byte[]? RangeEnd,
    bool PrevKv,
    int EventsMax,
    long EventBytesMax = long.MaxValue,
    int ChangesScannedMax = int.MaxValue)
{
    /// <summary>Whether key lies in this query's key range.</summary>
    public bool Matches(byte[] key)
    {
        if (Key is not { Length: > 0 } begin)
        {
            return true;
        }
        if (RangeEnd is not { Length: > 0 } end)
        {
            return KeyBytes.Compare(key, begin) == 0;
        }
        if (KeyBytes.Compare(key, begin) < 0)
        {
            return false;
        }
        return KeyBytes.IsFromKey(end) || KeyBytes.Compare(key, end) < 0;
    }

    /// <summary>The bytes an event holds on to (keys and values of kv and prev_kv), the unit of <see cref="EventBytesMax"/>.</summary>
    public static long EventBytes(MvccEvent mvccEvent)
    {
        ArgumentNullException.ThrowIfNull(mvccEvent);
        long bytes = mvccEvent.Kv.Key.Length + mvccEvent.Kv.Value.Length;
        if (mvccEvent.PrevKv is { } previous)
        {
            bytes += previous.Key.Length + previous.Value.Length;
        }
        return bytes;
    }
}
