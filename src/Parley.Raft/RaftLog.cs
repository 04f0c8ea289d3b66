namespace Parley.Raft;

/// <summary>
/// The log as the core sees it: the durable part in <see cref="IRaftStorage"/> followed by an unstable tail
/// (entries and possibly a snapshot) that the application has not yet persisted. The tail's first entries may have
/// been handed to the application already (in a Ready) and be on their way to disk: they stay in the tail, so that
/// the leader does not count them as durable, but are not handed over again (see <see cref="HandedOffTo"/>).
/// </summary>
public sealed class RaftLog
{
    private readonly IRaftStorage _storage;
    private readonly List<Entry> _unstable = [];
    private ulong _unstableOffset;
    // The first unstable index not yet handed to the application; _unstableOffset <= _inProgressEnd <= LastIndex + 1.
    private ulong _inProgressEnd;
    private Snapshot? _unstableSnapshot;

    public RaftLog(IRaftStorage storage)
    {
        _storage = storage;
        _unstableOffset = storage.LastIndex + 1;
        _inProgressEnd = _unstableOffset;
        Committed = storage.FirstIndex - 1;
        Applied = storage.FirstIndex - 1;
    }

    public ulong Committed { get; private set; }

    public ulong Applied { get; private set; }

    public Snapshot? UnstableSnapshot => _unstableSnapshot;

    public IReadOnlyList<Entry> UnstableEntries => _unstable;

    /// <summary>Whether the unstable tail holds entries not yet handed to the application.</summary>
    public bool HasEntriesToPersist => _inProgressEnd < _unstableOffset + (ulong)_unstable.Count;

    /// <summary>The unstable entries not yet handed to the application (a copy).</summary>
    public Entry[] EntriesToPersist()
    {
        var start = (int)(_inProgressEnd - _unstableOffset);
        var entries = new Entry[_unstable.Count - start];
        _unstable.CopyTo(start, entries, 0, entries.Length);
        return entries;
    }

    public ulong FirstIndex => _unstableSnapshot is { } snapshot ? snapshot.Metadata.Index + 1 : _storage.FirstIndex;

    public ulong LastIndex
    {
        get
        {
            if (_unstable.Count > 0)
            {
                return _unstableOffset + (ulong)_unstable.Count - 1;
            }
            return _unstableSnapshot is { } snapshot ? snapshot.Metadata.Index : _unstableOffset - 1;
        }
    }

    public ulong LastTerm => TermOrZero(LastIndex);

    /// <summary>
    /// The last index that is durable and part of this log: everything before the unstable tail. This is what a
    /// leader may count for itself toward a quorum. Nothing while a received snapshot awaits persistence.
    /// </summary>
    public ulong PersistedIndex => _unstableSnapshot is not null ? 0 : Math.Min(LastIndex, _unstableOffset - 1);

    public bool TryGetTerm(ulong index, out ulong term)
    {
        term = 0;
        if (index > LastIndex)
        {
            return false;
        }
        if (_unstableSnapshot is { } snapshot)
        {
            if (index == snapshot.Metadata.Index)
            {
                term = snapshot.Metadata.Term;
                return true;
            }
            if (index < snapshot.Metadata.Index)
            {
                return false;
            }
        }
        if (index >= _unstableOffset)
        {
            term = _unstable[(int)(index - _unstableOffset)].Term;
            return true;
        }
        if (index + 1 < _storage.FirstIndex)
        {
            return false;
        }
        return _storage.TryGetTerm(index, out term);
    }

    public ulong TermOrZero(ulong index) => TryGetTerm(index, out var term) ? term : 0;

    public bool MatchTerm(ulong index, ulong term) => TryGetTerm(index, out var actual) && actual == term;

    /// <summary>Raft §5.4.1: a log is at least as up to date when its last term is higher, or equal with a
    /// last index at least as large.</summary>
    public bool IsUpToDate(ulong lastIndex, ulong lastTerm) =>
        lastTerm > LastTerm || (lastTerm == LastTerm && lastIndex >= LastIndex);

    /// <summary>
    /// The follower side of AppendEntries: when the entry before <paramref name="entries"/> matches, drops any
    /// conflicting suffix, appends what is new, and advances the commit index. Returns the last index the
    /// message proves to match the leader, or null when the previous entry does not match.
    /// </summary>
    public ulong? TryAppend(ulong prevIndex, ulong prevTerm, ulong leaderCommit, Entry[] entries)
    {
        if (!MatchTerm(prevIndex, prevTerm))
        {
            return null;
        }
        var lastNewIndex = prevIndex + (ulong)entries.Length;
        var conflict = FindConflict(entries);
        if (conflict != 0)
        {
            Invariant.Check(conflict > Committed, $"entry {conflict} conflicts with committed entry (commit {Committed})");
            var skip = (int)(conflict - (prevIndex + 1));
            Append(entries.AsSpan(skip));
        }
        CommitTo(Math.Min(leaderCommit, lastNewIndex));
        return lastNewIndex;
    }

    /// <summary>Index of the first entry that is new or whose term differs from ours, or 0 when all match.</summary>
    private ulong FindConflict(Entry[] entries)
    {
        foreach (var entry in entries)
        {
            if (!MatchTerm(entry.Index, entry.Term))
            {
                return entry.Index;
            }
        }
        return 0;
    }

    /// <summary>
    /// The largest index at or below <paramref name="index"/> whose term is at most <paramref name="term"/>:
    /// where a follower and leader can next agree, skipping whole terms (fast backtracking).
    /// </summary>
    public (ulong Index, ulong Term) FindConflictByTerm(ulong index, ulong term)
    {
        while (index > 0)
        {
            if (!TryGetTerm(index, out var ourTerm))
            {
                return (index, 0);
            }
            if (ourTerm <= term)
            {
                return (index, ourTerm);
            }
            index--;
        }
        return (0, 0);
    }

    /// <summary>Appends to the unstable tail, truncating whatever follows the first new entry's predecessor.</summary>
    public void Append(ReadOnlySpan<Entry> entries)
    {
        if (entries.IsEmpty)
        {
            return;
        }
        var first = entries[0].Index;
        Invariant.Check(first > Committed, $"appending at {first} would overwrite committed entries (commit {Committed})");
        var end = _unstableOffset + (ulong)_unstable.Count;
        if (first == end)
        {
            // The common case: extend the tail.
        }
        else if (first <= _unstableOffset)
        {
            // Replaces the whole unstable tail, and shadows durable entries from `first` on.
            _unstableOffset = first;
            _unstable.Clear();
        }
        else
        {
            Invariant.Check(first < end, "append leaves a gap in the log");
            _unstable.RemoveRange((int)(first - _unstableOffset), (int)(end - first));
        }
        // Entries replaced while on their way to disk: what replaces them is handed over again from `first`.
        _inProgressEnd = Math.Min(_inProgressEnd, first);
        foreach (var entry in entries)
        {
            _unstable.Add(entry);
        }
    }

    /// <summary>
    /// The application took the unstable entries through (index, term) to persist them: they are not handed over
    /// again, but stay unstable until <see cref="StableTo"/>. Ignored when the log no longer holds that entry (it was
    /// replaced since).
    /// </summary>
    public void HandedOffTo(ulong index, ulong term)
    {
        if (index < _inProgressEnd || index >= _unstableOffset + (ulong)_unstable.Count || !MatchTerm(index, term))
        {
            return;
        }
        _inProgressEnd = index + 1;
    }

    // A slice's initial capacity: ranges cut short by bytesMax (a follower catching up) must not preallocate a
    // large-object-heap array per message; 256 entries (10 KiB) covers the batches of a busy leader.
    private const ulong SliceCapacityMax = 256;

    /// <summary>Entries in [lo, hi), at most <paramref name="bytesMax"/> of them (always at least one), and at most
    /// <paramref name="countMax"/>.</summary>
    public List<Entry> Slice(ulong lo, ulong hi, long bytesMax, int countMax)
    {
        if (lo >= hi)
        {
            return [];
        }
        Invariant.Check(lo >= FirstIndex && hi <= LastIndex + 1, $"slice [{lo},{hi}) outside [{FirstIndex},{LastIndex}]");
        hi = Math.Min(hi, lo + (ulong)countMax);
        // sized up front for the range, within SliceCapacityMax: no arrays grown and dropped on the way
        var result = new List<Entry>((int)Math.Min(hi - lo, SliceCapacityMax));
        if (lo < _unstableOffset)
        {
            _storage.CopyEntries(lo, Math.Min(hi, _unstableOffset), bytesMax, result);
            if (result.Count < (int)(Math.Min(hi, _unstableOffset) - lo))
            {
                return result;
            }
        }
        var bytes = SumBytes(result);
        for (var index = Math.Max(lo, _unstableOffset); index < hi; index++)
        {
            var entry = _unstable[(int)(index - _unstableOffset)];
            bytes += entry.SizeBytes;
            if (result.Count > 0 && bytes > bytesMax)
            {
                break;
            }
            result.Add(entry);
        }
        return result;
    }

    public bool HasEntriesFrom(ulong index) => index >= FirstIndex;

    public void CommitTo(ulong index)
    {
        if (index <= Committed)
        {
            return;
        }
        Invariant.Check(index <= LastIndex, $"commit {index} beyond last index {LastIndex}");
        Committed = index;
    }

    /// <summary>Commits up to <paramref name="index"/> if that entry is from <paramref name="term"/> (Raft §5.4.2:
    /// only current-term entries are committed by counting replicas), unless the bug switch says otherwise.</summary>
    public bool MaybeCommit(ulong index, ulong term, bool ignoreTerm)
    {
        if (index > Committed && (ignoreTerm || TermOrZero(index) == term))
        {
            CommitTo(index);
            return true;
        }
        return false;
    }

    public bool HasNextCommittedEntries => _unstableSnapshot is null && Committed > Applied;

    public List<Entry> NextCommittedEntries(long bytesMax) =>
        HasNextCommittedEntries ? Slice(Math.Max(Applied + 1, FirstIndex), Committed + 1, bytesMax, int.MaxValue) : [];

    public void AppliedTo(ulong index)
    {
        if (index == 0)
        {
            return;
        }
        Invariant.Check(index <= Committed && index >= Applied, $"applied {index} outside [{Applied},{Committed}]");
        Applied = index;
    }

    /// <summary>The application persisted entries up to (index, term): drop them from the unstable tail.</summary>
    public void StableTo(ulong index, ulong term)
    {
        if (index < _unstableOffset || !MatchTerm(index, term))
        {
            return;
        }
        var count = (int)(index - _unstableOffset + 1);
        if (count > _unstable.Count)
        {
            return;
        }
        _unstable.RemoveRange(0, count);
        _unstableOffset = index + 1;
        _inProgressEnd = Math.Max(_inProgressEnd, _unstableOffset);
    }

    public void StableSnapshotTo(ulong index)
    {
        if (_unstableSnapshot is { } snapshot && snapshot.Metadata.Index == index)
        {
            _unstableSnapshot = null;
        }
    }

    /// <summary>Replaces the whole log by a snapshot received from the leader.</summary>
    public void Restore(Snapshot snapshot)
    {
        var index = snapshot.Metadata.Index;
        Invariant.Check(index > Committed, "restoring a snapshot at or below the commit index");
        Committed = index;
        _unstableSnapshot = snapshot;
        _unstable.Clear();
        _unstableOffset = index + 1;
        _inProgressEnd = _unstableOffset;
    }

    /// <summary>After the application applied a restored snapshot.</summary>
    public void AppliedSnapshot(ulong index)
    {
        if (index > Applied)
        {
            Applied = index;
        }
    }

    private static long SumBytes(List<Entry> entries)
    {
        long bytes = 0;
        foreach (var entry in entries)
        {
            bytes += entry.SizeBytes;
        }
        return bytes;
    }
}
