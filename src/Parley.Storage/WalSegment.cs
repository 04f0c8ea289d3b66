namespace Parley.Storage;

/// <summary>The log's bookkeeping for one segment file.</summary>
internal sealed class WalSegment
{
    public WalSegment(ulong sequence, string path, long headerEndOffset)
    {
        Sequence = sequence;
        Path = path;
        HeaderEndOffset = headerEndOffset;
    }

    public ulong Sequence { get; }

    public string Path { get; }

    public long HeaderEndOffset { get; }

    /// <summary>Open only while the segment is active or prepared for the next rollover.</summary>
    public IStorageFile? File { get; set; }

    /// <summary>
    /// Offset up to which the file's blocks are known to be written (records or zeros), not just allocated: the whole
    /// segment for one prepared zero-filled, the recovered records' end for one reopened.
    /// </summary>
    public long WrittenEnd { get; set; }

    /// <summary>Whether any record besides the header was written (and synced) into it.</summary>
    public bool HasData { get; set; }

    /// <summary>Highest entry index the segment holds (0 if none): it can be released once a snapshot covers this.</summary>
    public ulong EntryIndexMax { get; set; }
}
