using Parley.Raft;

namespace Parley.Storage;

/// <summary>One segment as <see cref="WalInspector"/> found it.</summary>
public sealed record SegmentReport(
    string File,
    ulong Sequence,
    long SizeBytes,
    long DataEndOffset,
    int Entries,
    int HardStates,
    int SnapshotMarkers,
    int SyncGroups,
    ulong FirstIndex,
    ulong LastIndex,
    ulong FirstTerm,
    ulong LastTerm,
    string? Damage);

/// <summary>One snapshot file as <see cref="WalInspector"/> found it.</summary>
public sealed record SnapshotReport(string File, ulong Index, ulong Term, long SizeBytes, string? Problem, bool MarkedInWal);

/// <summary>What a data directory holds and whether a member could start from it.</summary>
public sealed record InspectionReport(
    string DataDirectory,
    StorageIdentity? Identity,
    IReadOnlyList<SegmentReport> Segments,
    IReadOnlyList<SnapshotReport> Snapshots,
    WalRepair? TornTail,
    string? Problem)
{
    /// <summary>No corruption and nothing refused (a torn tail is normal after a crash and is repaired at start).</summary>
    public bool Healthy => Problem is null;
}

/// <summary>
/// One log record as written, for <c>parley wal entries</c>: an entry (<see cref="Entry"/>) or a hard state that
/// differs from the one before it (<see cref="HardState"/>). Entries appear as often as they were written: an
/// index written again after a conflict shows twice, the later one being the one that counts.
/// </summary>
public sealed record WalLogRecord(string Segment, long Offset, Entry? Entry, HardState? HardState);

/// <summary>Read-only examination of a data directory: decodes and checksums every record and snapshot, changes nothing.</summary>
public static class WalInspector
{
    /// <summary>
    /// Every entry and every change of hard state (term, vote, commit), in the order the WAL holds them, up to the first
    /// damage (a torn tail or corruption: <see cref="Inspect"/> says which).
    /// </summary>
    public static IReadOnlyList<WalLogRecord> Records(IFileSystem fileSystem, string dataDirectory)
    {
        var identity = IdentityFile.Read(fileSystem, Path.Combine(dataDirectory, StorageFormat.IdentityFileName));
        var scan = WalScan.Read(fileSystem, Path.Combine(dataDirectory, StorageFormat.WalDirectoryName), identity);
        var records = new List<WalLogRecord>();
        var last = HardState.Empty;
        foreach (var segment in scan.Segments)
        {
            var name = Path.GetFileName(segment.Path);
            foreach (var record in segment.Records)
            {
                if (record.Type == WalRecordType.Entry)
                {
                    records.Add(new WalLogRecord(name, record.Offset, record.Entry, null));
                }
                else if (record.Type == WalRecordType.HardState && record.HardState != last)
                {
                    last = record.HardState;
                    records.Add(new WalLogRecord(name, record.Offset, null, record.HardState));
                }
            }
        }
        return records;
    }

    public static InspectionReport Inspect(IFileSystem fileSystem, string dataDirectory)
    {
        var segments = new List<SegmentReport>();
        var snapshots = new List<SnapshotReport>();
        StorageIdentity? identity;
        try
        {
            identity = IdentityFile.Read(fileSystem, Path.Combine(dataDirectory, StorageFormat.IdentityFileName));
        }
        catch (Exception exception) when (exception is StorageRefusedException or StorageCorruptionException or IOException)
        {
            return new InspectionReport(dataDirectory, null, segments, snapshots, null, exception.Message);
        }
        var walDirectory = Path.Combine(dataDirectory, StorageFormat.WalDirectoryName);
        if (!fileSystem.DirectoryExists(walDirectory))
        {
            return new InspectionReport(dataDirectory, identity, segments, snapshots, null, $"{walDirectory} does not exist");
        }
        var scan = WalScan.Read(fileSystem, walDirectory, identity);
        var markers = new HashSet<(ulong, ulong)>();
        foreach (var segment in scan.Segments)
        {
            segments.Add(Describe(segment, markers));
        }
        var snapshotDirectory = Path.Combine(dataDirectory, StorageFormat.SnapshotDirectoryName);
        if (fileSystem.DirectoryExists(snapshotDirectory))
        {
            var store = new SnapshotStore(fileSystem, snapshotDirectory, identity.Value, new StorageOptions());
            foreach (var (index, term, path) in store.List())
            {
                store.TryLoad(path, out _, out var problem);
                long size;
                using (var file = fileSystem.OpenFile(path, writable: false))
                {
                    size = file.Length;
                }
                snapshots.Add(new SnapshotReport(path, index, term, size, problem, markers.Contains((index, term))));
            }
        }
        var verdict = scan.Refusal ?? scan.Corruption?.Message;
        if (verdict is null && scan.Segments.Count == 0)
        {
            verdict = $"{walDirectory} holds no segment files";
        }
        return new InspectionReport(dataDirectory, identity, segments, snapshots, scan.TornTail, verdict);
    }

    private static SegmentReport Describe(WalSegmentScan segment, HashSet<(ulong, ulong)> markers)
    {
        int entries = 0, hardStates = 0, snapshotMarkers = 0, groups = 0;
        ulong firstIndex = 0, lastIndex = 0, firstTerm = 0, lastTerm = 0;
        foreach (var record in segment.Records)
        {
            switch (record.Type)
            {
                case WalRecordType.Entry:
                    if (entries++ == 0)
                    {
                        firstIndex = record.Entry.Index;
                        firstTerm = record.Entry.Term;
                    }
                    lastIndex = record.Entry.Index;
                    lastTerm = record.Entry.Term;
                    break;
                case WalRecordType.HardState:
                    hardStates++;
                    break;
                case WalRecordType.Snapshot:
                    snapshotMarkers++;
                    markers.Add((record.SnapshotIndex, record.SnapshotTerm));
                    break;
                case WalRecordType.SyncMark:
                    groups++;
                    break;
                default:
                    break;
            }
        }
        var damage = segment.HeaderProblem ?? (segment.Damage is { } d ? $"offset {d.Offset}: {d.Problem}" : null);
        return new SegmentReport(segment.Path, segment.Sequence, segment.Data.Length, segment.DataEnd, entries, hardStates, snapshotMarkers,
            groups, firstIndex, lastIndex, firstTerm, lastTerm, damage);
    }
}
