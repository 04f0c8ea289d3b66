using Parley.Raft;

namespace Parley.Storage;

/// <summary>What a WAL holds, in log order, as recovery found it.</summary>
public sealed class WalReplay
{
    private readonly List<Entry> _entries = [];
    private readonly List<(string File, long Offset)> _locations = [];

    /// <summary>The newest hard state recorded (empty if none).</summary>
    public HardState HardState { get; internal set; }

    /// <summary>Snapshots (index, term) the log says are durable, oldest first.</summary>
    public List<(ulong Index, ulong Term)> SnapshotMarkers { get; } = [];

    /// <summary>The torn tail recovery truncated, if any.</summary>
    public WalRepair? Repair { get; internal set; }

    public int EntryRecordCount => _entries.Count;

    internal void Add(Entry entry, string file, long offset)
    {
        _entries.Add(entry);
        _locations.Add((file, offset));
    }

    /// <summary>
    /// The log after a snapshot at <paramref name="snapshotIndex"/>: entries at or below it are skipped; an entry at or
    /// below the current end replaces the suffix from its index (a follower's conflicting entries truncated);
    /// an entry beyond the end + 1 is a hole, which no crash can make, so it is refused.
    /// </summary>
    public List<Entry> EntriesAfter(ulong snapshotIndex)
    {
        var entries = new List<Entry>();
        for (var i = 0; i < _entries.Count; i++)
        {
            var entry = _entries[i];
            if (entry.Index <= snapshotIndex)
            {
                continue;
            }
            var next = snapshotIndex + (ulong)entries.Count + 1;
            if (entry.Index > next)
            {
                var (file, offset) = _locations[i];
                throw new StorageCorruptionException(file, offset,
                    $"entry {entry.Index} follows entry {next - 1}: entries {next}..{entry.Index - 1} are missing " +
                    $"(log starts after snapshot index {snapshotIndex}; a snapshot file covering them may be missing or corrupt)");
            }
            if (entry.Index < next)
            {
                entries.RemoveRange((int)(entry.Index - snapshotIndex - 1), entries.Count - (int)(entry.Index - snapshotIndex - 1));
            }
            entries.Add(entry);
        }
        return entries;
    }
}
