namespace Parley.Raft;

/// <summary>
/// An in-memory <see cref="IRaftStorage"/>: used by tests, and by the simulator as the durable part of a member
/// (its contents survive a simulated crash; what was never appended here does not).
/// </summary>
public sealed class MemoryStorage : IRaftStorage
{
    // _entries[0] is a dummy standing for the snapshot's last entry (index and term only).
    private readonly List<Entry> _entries = [new Entry(0, 0, EntryType.Normal, default)];
    private readonly EntryArena _arena = new();

    public HardState InitialHardState { get; private set; }

    public Snapshot Snapshot { get; private set; } = Snapshot.Empty;

    public ulong FirstIndex => _entries[0].Index + 1;

    public ulong LastIndex => _entries[0].Index + (ulong)_entries.Count - 1;

    public int EntryCount => _entries.Count - 1;

    public static MemoryStorage WithMembers(params ulong[] voters)
    {
        var storage = new MemoryStorage();
        var sorted = voters.Order().ToArray();
        storage.Snapshot = new Snapshot(new SnapshotMetadata(0, 0, new ConfigState(sorted, [])), default);
        return storage;
    }

    public void SetHardState(HardState state) => InitialHardState = state;

    public bool TryGetTerm(ulong index, out ulong term)
    {
        var offset = _entries[0].Index;
        if (index < offset || index > LastIndex)
        {
            term = 0;
            return false;
        }
        term = _entries[(int)(index - offset)].Term;
        return true;
    }

    public void CopyEntries(ulong lo, ulong hi, long bytesMax, List<Entry> into)
    {
        Invariant.Check(lo >= FirstIndex && hi <= LastIndex + 1 && lo <= hi, "storage read out of bounds");
        var offset = _entries[0].Index;
        long bytes = 0;
        for (var index = lo; index < hi; index++)
        {
            var entry = _entries[(int)(index - offset)];
            bytes += entry.SizeBytes;
            if (index > lo && bytes > bytesMax)
            {
                return;
            }
            into.Add(entry);
        }
    }

    public Entry EntryAt(ulong index)
    {
        Invariant.Check(index >= FirstIndex && index <= LastIndex, "storage entry out of bounds");
        return _entries[(int)(index - _entries[0].Index)];
    }

    /// <summary>Appends entries, replacing any conflicting suffix (entries may start at or before LastIndex + 1).</summary>
    public void Append(IReadOnlyList<Entry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }
        var first = entries[0].Index;
        Invariant.Check(first <= LastIndex + 1, "storage append leaves a gap");
        if (first < FirstIndex)
        {
            // Already covered by the snapshot: drop the prefix.
            var skip = (int)Math.Min((ulong)entries.Count, FirstIndex - first);
            entries = entries.Skip(skip).ToList();
            if (entries.Count == 0)
            {
                return;
            }
            first = entries[0].Index;
        }
        var keep = (int)(first - _entries[0].Index);
        _entries.RemoveRange(keep, _entries.Count - keep);
        foreach (var entry in entries)
        {
            _entries.Add(_arena.Pack(entry));
        }
    }

    /// <summary>Installs a snapshot received from the leader: the log is replaced by it.</summary>
    public void ApplySnapshot(Snapshot snapshot)
    {
        Invariant.Check(snapshot.Metadata.Index >= Snapshot.Metadata.Index, "snapshot older than the current one");
        Snapshot = snapshot;
        _entries.Clear();
        _entries.Add(new Entry(snapshot.Metadata.Term, snapshot.Metadata.Index, EntryType.Normal, default));
    }

    /// <summary>Records a snapshot the application took locally and drops the log up to
    /// <paramref name="compactIndex"/> (at most the snapshot's index: keeping a few entries lets slightly
    /// lagging followers catch up from the log instead of a snapshot).</summary>
    public void CreateSnapshot(Snapshot snapshot, ulong compactIndex)
    {
        var index = snapshot.Metadata.Index;
        Invariant.Check(index <= LastIndex && index >= Snapshot.Metadata.Index, "snapshot index outside the log");
        Invariant.Check(compactIndex <= index, "compacting beyond the snapshot");
        Snapshot = snapshot;
        Compact(compactIndex);
    }

    /// <summary>Drops entries up to and including <paramref name="index"/>, keeping its term as the new dummy.</summary>
    public void Compact(ulong index)
    {
        var offset = _entries[0].Index;
        if (index <= offset)
        {
            return;
        }
        Invariant.Check(index <= LastIndex, "compacting beyond the last index");
        var cut = (int)(index - offset);
        var term = _entries[cut].Term;
        _entries.RemoveRange(0, cut);
        _entries[0] = new Entry(term, index, EntryType.Normal, default);
    }
}
