using Parley.Raft;
using Parley.Storage;

namespace Parley.Simulation.NodeMode;

/// <summary>
/// What a member's storage recovered before a bit was flipped in it: the reference that a recovery after the flip
/// is judged against. Recovery after a flip must either refuse to open, or read back exactly this state (an older
/// snapshot that was also on disk intact, with the log from there, is the same state).
/// </summary>
public sealed class StorageFingerprint
{
    private readonly Dictionary<(ulong Index, ulong Term), Snapshot> _snapshots = [];
    private readonly Dictionary<ulong, Entry> _entries = [];

    private StorageFingerprint(RecoveredState recovered)
    {
        HardState = recovered.HardState;
        Snapshot = recovered.Snapshot;
        LastIndex = recovered.LastIndex;
        foreach (var entry in recovered.Entries)
        {
            _entries[entry.Index] = entry;
        }
    }

    public HardState HardState { get; }

    public Snapshot Snapshot { get; }

    public ulong LastIndex { get; }

    public static StorageFingerprint Capture(MemberStorage storage)
    {
        var fingerprint = new StorageFingerprint(storage.Recovered);
        foreach (var (index, term, path) in storage.Snapshots.List())
        {
            if (storage.Snapshots.TryLoad(path, out var snapshot, out _))
            {
                fingerprint._snapshots[(index, term)] = snapshot;
            }
        }
        return fingerprint;
    }

    /// <summary>Null when <paramref name="recovered"/> is this state; otherwise what differs.</summary>
    public string? Compare(RecoveredState recovered)
    {
        if (recovered.HardState != HardState)
        {
            return $"hard state {recovered.HardState} read back, {HardState} was stored";
        }
        if (recovered.LastIndex != LastIndex)
        {
            return $"log ends at {recovered.LastIndex}, it ended at {LastIndex}";
        }
        var snapshot = recovered.Snapshot;
        if (!snapshot.IsEmpty)
        {
            var key = (snapshot.Metadata.Index, snapshot.Metadata.Term);
            if (!_snapshots.TryGetValue(key, out var stored))
            {
                return $"snapshot {key.Index}/{key.Term} read back, no such snapshot was stored";
            }
            if (!stored.Metadata.Config.Equals(snapshot.Metadata.Config))
            {
                return $"snapshot {key.Index}/{key.Term} read back with membership {snapshot.Metadata.Config}, {stored.Metadata.Config} was stored";
            }
            if (!stored.Data.Span.SequenceEqual(snapshot.Data.Span))
            {
                return $"snapshot {key.Index}/{key.Term} read back with different data ({DescribeDifference(stored.Data.Span, snapshot.Data.Span)})";
            }
        }
        if (snapshot.Metadata.Index > Snapshot.Metadata.Index)
        {
            return $"recovery started from snapshot {snapshot.Metadata.Index}, newer than the stored {Snapshot.Metadata.Index}";
        }
        foreach (var entry in recovered.Entries)
        {
            if (entry.Index <= Snapshot.Metadata.Index)
            {
                continue; // below the stored snapshot: the reference has only the snapshot there
            }
            if (!_entries.TryGetValue(entry.Index, out var stored))
            {
                return $"entry {entry} read back, none was stored at index {entry.Index}";
            }
            if (stored.Term != entry.Term || stored.Type != entry.Type)
            {
                return $"entry {entry} read back, {stored} was stored";
            }
            if (!stored.Data.Span.SequenceEqual(entry.Data.Span))
            {
                return $"entry {entry} read back with different data ({DescribeDifference(stored.Data.Span, entry.Data.Span)})";
            }
        }
        return null;
    }

    private static string DescribeDifference(ReadOnlySpan<byte> stored, ReadOnlySpan<byte> read)
    {
        if (stored.Length != read.Length)
        {
            return $"{read.Length} bytes instead of {stored.Length}";
        }
        for (var i = 0; i < stored.Length; i++)
        {
            if (stored[i] != read[i])
            {
                return $"byte {i} is 0x{read[i]:x2}, was 0x{stored[i]:x2}";
            }
        }
        return "same bytes";
    }
}
