namespace Parley.Mvcc;

/// <summary>
/// Changes in apply order (revision, then order within the revision), for watch replay. Stored in
/// fixed-size chunks so growth never copies the whole log and compaction drops a prefix cheaply.
/// </summary>
internal sealed class ChangeLog
{
    private const int ChunkShift = 12;
    private const int ChunkEntries = 1 << ChunkShift;

    private readonly List<ChangeEntry[]> _chunks = [];
    private long _chunkBase; // absolute position of _chunks[0][0]
    private long _head; // absolute position of the first live entry
    private long _tail; // absolute position after the last entry

    public long Count => _tail - _head;

    public long Head => _head;

    public long Tail => _tail;

    public void Append(in ChangeEntry entry)
    {
        long offset = _tail - _chunkBase;
        int chunkIndex = (int)(offset >> ChunkShift);
        if (chunkIndex == _chunks.Count)
        {
            _chunks.Add(new ChangeEntry[ChunkEntries]);
        }
        _chunks[chunkIndex][offset & (ChunkEntries - 1)] = entry;
        _tail++;
    }

    public ref readonly ChangeEntry At(long position)
    {
        Invariant.Check(position >= _head && position < _tail, "change log position in bounds");
        long offset = position - _chunkBase;
        return ref _chunks[(int)(offset >> ChunkShift)][offset & (ChunkEntries - 1)];
    }

    /// <summary>First position whose revision is ≥ revision (Tail when none).</summary>
    public long LowerBound(long revision)
    {
        long low = _head;
        long high = _tail - 1;
        while (low <= high)
        {
            long middle = low + ((high - low) >> 1);
            if (At(middle).Revision < revision)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }
        return low;
    }

    /// <summary>
    /// After a compaction at revision: drops every entry below it, and the entries at it whose
    /// version the compaction removed (tombstones at the compact revision), keeping order.
    /// </summary>
    public void Compact(long revision)
    {
        long atRevision = LowerBound(revision);
        long afterRevision = LowerBound(revision + 1);
        // Keep the surviving entries of the compact revision packed against afterRevision.
        long write = afterRevision;
        for (long read = afterRevision - 1; read >= atRevision; read--)
        {
            ChangeEntry entry = At(read);
            if (entry.Record.IndexOfChange(entry.Revision, entry.IsDelete) >= 0)
            {
                write--;
                Set(write, entry);
            }
        }
        _head = write;
        while (_head - _chunkBase >= ChunkEntries)
        {
            _chunks.RemoveAt(0);
            _chunkBase += ChunkEntries;
        }
    }

    /// <summary>Restores an empty log so that its next entry gets absolute position 0.</summary>
    public void Clear()
    {
        _chunks.Clear();
        _chunkBase = 0;
        _head = 0;
        _tail = 0;
    }

    private void Set(long position, in ChangeEntry entry)
    {
        long offset = position - _chunkBase;
        _chunks[(int)(offset >> ChunkShift)][offset & (ChunkEntries - 1)] = entry;
    }
}
