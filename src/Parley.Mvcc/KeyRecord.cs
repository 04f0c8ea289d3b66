namespace Parley.Mvcc;

/// <summary>
/// Everything the store keeps for one key: its versions, oldest first, across generations (a
/// tombstone ends a generation; the next put starts one). Mod revisions never decrease; two versions
/// may share one revision when a txn puts and deletes the same key (only possible through etcd's
/// from-key delete quirk, see RequestValidator).
/// </summary>
internal sealed class KeyRecord
{
    // The newest version lives inline and only older ones go to an array: most keys hold one
    // version (one put since the last compaction), and an array for it would cost 64 B per key
    // (24 B header + 40 B element) where the inline slot costs 40 B.
    private KeyVersion _latest; // meaningful when _count > 0
    private KeyVersion[] _older = []; // versions 0 .. _count - 2, oldest first
    private int _count;

    public KeyRecord(byte[] key)
    {
        Key = key;
    }

    /// <summary>
    /// A record about to receive <paramref name="versionCount"/> versions (a snapshot says how many): the older versions'
    /// array is allocated once at its final size instead of doubling from one (a restart restoring 1M keys and ~400k
    /// older versions: restore 1,985 ms against 2,131 on average over three interleaved rounds, docs/benchmarks.md). Up
    /// to <see cref="PresizedVersionsMax"/>: a count read from a damaged snapshot cannot make it allocate more than that
    /// before the data runs out; beyond it the array doubles as usual.
    /// </summary>
    public KeyRecord(byte[] key, int versionCount)
    {
        Key = key;
        int older = Math.Min(versionCount, PresizedVersionsMax) - 1;
        _older = older > 0 ? new KeyVersion[older] : [];
    }

    internal const int PresizedVersionsMax = 1_024;

    public byte[] Key { get; }

    public int VersionCount => _count;

    /// <summary>Scratch slot for snapshot writing (position of this key in key order).</summary>
    public int SnapshotOrdinal { get; set; }

    public ref readonly KeyVersion Latest
    {
        get
        {
            Invariant.Check(_count > 0, "a key record always has a version");
            return ref _latest;
        }
    }

    /// <summary>True when the newest version is a live value (the key exists now).</summary>
    public bool IsLive => _count > 0 && !_latest.IsTombstone;

    public ref readonly KeyVersion VersionAt(int index)
    {
        if (index == _count - 1)
        {
            return ref _latest;
        }
        return ref _older[index];
    }

    public void Append(in KeyVersion version)
    {
        Invariant.Check(_count == 0 || version.ModRevision >= _latest.ModRevision, "versions are appended in revision order");
        if (_count > 0)
        {
            int olderCount = _count - 1;
            if (olderCount == _older.Length)
            {
                Array.Resize(ref _older, Math.Max(1, olderCount * 2));
            }
            _older[olderCount] = _latest;
        }
        _latest = version;
        _count++;
    }

    /// <summary>Index of the newest version with mod revision ≤ revision, or -1.</summary>
    /// <summary>
    /// This record's versions as they are now, for <see cref="FrozenSnapshot"/>: the newest copied, the older ones by
    /// reference (<see cref="Append"/> only writes beyond the captured count and <see cref="CompactTo"/> replaces the
    /// array, so the captured part never changes).
    /// </summary>
    public FrozenSnapshot.Record Freeze() => new(Key, _older, _latest, _count);

    public int IndexAt(long revision)
    {
        if (_count == 0)
        {
            return -1;
        }
        if (_latest.ModRevision <= revision)
        {
            return _count - 1;
        }
        int low = 0;
        int high = _count - 2;
        int found = -1;
        while (low <= high)
        {
            int middle = (low + high) >>> 1;
            if (_older[middle].ModRevision <= revision)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }
        return found;
    }

    /// <summary>Index of the live version visible at revision, or -1 when the key did not exist then.</summary>
    public int VisibleIndexAt(long revision)
    {
        int index = IndexAt(revision);
        return index >= 0 && !VersionAt(index).IsTombstone ? index : -1;
    }

    /// <summary>Index of the version written at revision with the given kind, or -1.</summary>
    public int IndexOfChange(long revision, bool isDelete)
    {
        int index = IndexAt(revision);
        while (index >= 0 && VersionAt(index).ModRevision == revision)
        {
            if (VersionAt(index).IsTombstone == isDelete)
            {
                return index;
            }
            index--;
        }
        return -1;
    }

    public KeyValue ToKeyValue(int index, bool keysOnly)
    {
        ref readonly KeyVersion version = ref VersionAt(index);
        Invariant.Check(!version.IsTombstone, "a tombstone has no key-value");
        return new KeyValue(Key, version.CreateRevision, version.ModRevision, version.Version, keysOnly ? [] : version.Value!, version.Lease);
    }

    /// <summary>
    /// Drops what a compaction at revision makes unreadable, as etcd's keyIndex.compact does: every
    /// version older than the newest one at or below revision, and that one too when it is a
    /// tombstone. Returns the stored bytes released; the record is empty when nothing is left.
    /// </summary>
    public long CompactTo(long revision, long versionOverheadBytes)
    {
        int newest = IndexAt(revision);
        if (newest < 0)
        {
            return 0;
        }
        int drop = VersionAt(newest).IsTombstone ? newest + 1 : newest;
        if (drop == 0)
        {
            return 0;
        }
        long released = 0;
        for (int index = 0; index < drop; index++)
        {
            released += StoredBytes(Key.Length, VersionAt(index).Value, versionOverheadBytes);
        }
        int remaining = _count - drop;
        if (remaining == 0)
        {
            _latest = default;
            _older = [];
            _count = 0;
            return released;
        }
        // The newest version survives; a fresh exact-size array gives the memory of long histories
        // back after compaction.
        int olderRemaining = remaining - 1;
        KeyVersion[] kept = olderRemaining == 0 ? [] : new KeyVersion[olderRemaining];
        Array.Copy(_older, drop, kept, 0, olderRemaining);
        _older = kept;
        _count = remaining;
        return released;
    }

    public static long StoredBytes(int keyLength, byte[]? value, long versionOverheadBytes) =>
        keyLength + (value?.Length ?? 0) + versionOverheadBytes;
}
