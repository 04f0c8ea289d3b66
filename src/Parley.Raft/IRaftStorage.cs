namespace Parley.Raft;

/// <summary>
/// The durable log as the core sees it: read-only. The application writes to it (after persisting each
/// <see cref="Ready"/>); the core only asks. Index <c>FirstIndex - 1</c> is the snapshot's last index, whose
/// term is still known.
/// </summary>
public interface IRaftStorage
{
    HardState InitialHardState { get; }

    /// <summary>Membership as of the newest snapshot (the core replays config entries after it itself).</summary>
    Snapshot Snapshot { get; }

    ulong FirstIndex { get; }

    ulong LastIndex { get; }

    /// <summary>Term of the entry at <paramref name="index"/>, or false when it is compacted or beyond the end.</summary>
    bool TryGetTerm(ulong index, out ulong term);

    /// <summary>Appends entries in [lo, hi) to <paramref name="into"/>, stopping once <paramref name="bytesMax"/> is
    /// reached (but always at least one entry).</summary>
    void CopyEntries(ulong lo, ulong hi, long bytesMax, List<Entry> into);
}
