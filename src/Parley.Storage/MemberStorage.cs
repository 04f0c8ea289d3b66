using System.Buffers;
using Parley.Raft;

namespace Parley.Storage;

/// <summary>
/// One member's durable state in one data directory: <c>member.parley</c> (identity and format version),
/// <c>wal/</c> (the <see cref="WriteAheadLog"/>) and <c>snap/</c> (the <see cref="SnapshotStore"/>).
/// A node loop uses it like this, once per turn:
/// <code>
/// if (ready.Snapshot is { IsEmpty: false } s) storage.SaveSnapshot(s);   // before the entries that follow it
/// storage.Append(ready.HardState ?? HardState.Empty, ready.Entries);    // no I/O
/// storage.Sync();                                                        // one write + one fdatasync for the batch
/// // now send MessagesAfterPersist, apply, Advance; after the state machine snapshots: storage.SaveSnapshot(...)
/// </code>
/// Single-threaded by contract (the node loop owns it), but for <see cref="WriteSnapshotFile"/>.
/// </summary>
public sealed class MemberStorage : IDisposable
{
    private readonly StorageOptions _options;

    private MemberStorage(string dataDirectory, StorageOptions options, WriteAheadLog wal, SnapshotStore snapshots, RecoveredState recovered)
    {
        DataDirectory = dataDirectory;
        _options = options;
        Wal = wal;
        Snapshots = snapshots;
        Recovered = recovered;
    }

    public string DataDirectory { get; }

    public WriteAheadLog Wal { get; }

    public SnapshotStore Snapshots { get; }

    /// <summary>The state found at open (empty for a fresh directory).</summary>
    public RecoveredState Recovered { get; private set; }

    public bool HasPendingWrites => Wal.HasPendingWrites;

    /// <summary>The identity a data directory was created for, or null when it has none yet (new or empty).</summary>
    public static StorageIdentity? ReadIdentity(IFileSystem fileSystem, string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, StorageFormat.IdentityFileName);
        return fileSystem.FileExists(path) ? IdentityFile.Read(fileSystem, path) : null;
    }

    /// <summary>
    /// Opens the data directory, creating it if missing or empty. Refuses (<see cref="StorageRefusedException"/>)
    /// a directory of another format version, cluster or member, and stops (<see cref="StorageCorruptionException"/>)
    /// on damage a crash cannot explain; truncates a torn WAL tail and says so in <see cref="RecoveredState.Repair"/>.
    /// </summary>
    public static MemberStorage Open(IFileSystem fileSystem, string dataDirectory, StorageIdentity identity, StorageOptions? options = null)
    {
        options ??= new StorageOptions();
        options.Validate();
        var identityPath = Path.Combine(dataDirectory, StorageFormat.IdentityFileName);
        var walDirectory = Path.Combine(dataDirectory, StorageFormat.WalDirectoryName);
        var snapshotDirectory = Path.Combine(dataDirectory, StorageFormat.SnapshotDirectoryName);
        var fresh = !fileSystem.DirectoryExists(dataDirectory) || !fileSystem.FileExists(identityPath);
        if (fresh)
        {
            var identityTemporaryPath = identityPath + StorageFormat.TemporaryExtension;
            if (fileSystem.DirectoryExists(dataDirectory) && fileSystem.FileExists(identityTemporaryPath))
            {
                // Killed while writing the identity file on its very first start (the first thing written; a power cut
                // loses the unsynced file, a killed process leaves it): nothing else exists yet, so start afresh.
                fileSystem.DeleteFile(identityTemporaryPath);
            }
            if (fileSystem.DirectoryExists(dataDirectory)
                && (fileSystem.ListFiles(dataDirectory).Count > 0 || fileSystem.DirectoryExists(walDirectory) || fileSystem.DirectoryExists(snapshotDirectory)))
            {
                throw new StorageRefusedException(
                    $"{dataDirectory} is not empty but has no {StorageFormat.IdentityFileName}: it is not a Parley data directory (or its identity file was removed). " +
                    "Use an empty or new directory.");
            }
            DurableFile.EnsureDirectory(fileSystem, dataDirectory, options);
            IdentityFile.Write(fileSystem, dataDirectory, identity, options);
        }
        IdentityFile.Verify(fileSystem, dataDirectory, identity);
        DurableFile.EnsureDirectory(fileSystem, walDirectory, options);
        DurableFile.EnsureDirectory(fileSystem, snapshotDirectory, options);
        DurableFile.RemoveTemporaryFiles(fileSystem, walDirectory);
        DurableFile.RemoveTemporaryFiles(fileSystem, snapshotDirectory);
        var snapshots = new SnapshotStore(fileSystem, snapshotDirectory, identity, options);
        if (!HasSegments(fileSystem, walDirectory))
        {
            // Fresh, or a crash during the very first start: nothing was ever acknowledged from here.
            if (snapshots.List().Count > 0)
            {
                throw new StorageCorruptionException(walDirectory, 0, "snapshot files exist but the WAL has no segment files");
            }
            var created = WriteAheadLog.Create(fileSystem, walDirectory, identity, options);
            var empty = new RecoveredState(Snapshot.Empty, HardState.Empty, [], null, [], CreatedFresh: true);
            return new MemberStorage(dataDirectory, options, created, snapshots, empty);
        }
        var newestSnapshot = options.ReadSnapshotAlongsideWal ? ReadNewestAhead(snapshots) : null;
        var wal = WriteAheadLog.Open(fileSystem, walDirectory, identity, options, out var replay);
        try
        {
            var recovered = Recover(replay, snapshots, newestSnapshot);
            return new MemberStorage(dataDirectory, options, wal, snapshots, recovered);
        }
        catch
        {
            wal.Dispose();
            throw;
        }
    }

    /// <summary>Frames entries and hard state for the next <see cref="Sync"/>; no I/O.</summary>
    public void Append(HardState hardState, IReadOnlyList<Entry> entries) => Wal.Append(hardState, entries);

    /// <summary>One write and one fdatasync for everything appended since the last sync; nothing if nothing is pending.</summary>
    public void Sync() => Wal.Sync();

    /// <summary>
    /// Makes a snapshot durable and the recovery starting point: <see cref="WriteSnapshotFile"/>, then
    /// <see cref="CommitSnapshot"/>.
    /// </summary>
    public void SaveSnapshot(Snapshot snapshot)
    {
        WriteSnapshotFile(snapshot);
        CommitSnapshot(snapshot);
    }

    /// <summary>
    /// Writes the snapshot file atomically and durably. The one call that may run on another thread than the node
    /// loop's (a member writes its own periodic snapshots in the background); until <see cref="CommitSnapshot"/> the
    /// file is not a recovery starting point (recovery ignores a snapshot file the WAL has no marker for).
    /// </summary>
    public void WriteSnapshotFile(Snapshot snapshot) => Snapshots.Save(snapshot);

    /// <summary>
    /// As <see cref="WriteSnapshotFile(Snapshot)"/>, streaming the data (see <see cref="SnapshotStore.Save(SnapshotMetadata, long, Action{IBufferWriter{byte}})"/>);
    /// returns the snapshot with its data left in the file.
    /// </summary>
    public Snapshot WriteSnapshotFile(SnapshotMetadata metadata, long dataLength, Action<IBufferWriter<byte>> writeData)
    {
        Snapshots.Save(metadata, dataLength, writeData);
        return Snapshots.FileBacked(metadata, checked((int)dataLength));
    }

    /// <summary>
    /// After <see cref="WriteSnapshotFile"/>: appends a marker for the snapshot to the WAL and syncs (this also syncs
    /// anything already appended), then releases WAL segments the snapshot covers and snapshot files beyond
    /// <see cref="StorageOptions.SnapshotsRetained"/>. A snapshot no newer than the newest marker (a background
    /// snapshot overtaken by one installed from the leader) is not committed: false.
    /// </summary>
    public bool CommitSnapshot(Snapshot snapshot)
    {
        if (snapshot.Metadata.Index <= Wal.SnapshotMarkerIndex)
        {
            return false;
        }
        Wal.AppendSnapshotMarker(snapshot.Metadata.Index, snapshot.Metadata.Term);
        Wal.Sync();
        Wal.ReleaseBefore(snapshot.Metadata.Index);
        Snapshots.Prune(_options.SnapshotsRetained);
        return true;
    }

    /// <summary>See <see cref="SnapshotStore.FileBacked"/>: for a snapshot this storage has written and committed.</summary>
    public Snapshot FileBacked(Snapshot snapshot) => Snapshots.FileBacked(snapshot);

    /// <summary>
    /// Once the node has restored its keyspace from <see cref="Recovered"/>'s snapshot, its bytes need not stay in
    /// memory: the recovered snapshot becomes file-backed (read again only if something asks for its data).
    /// </summary>
    public void ReleaseRecoveredSnapshotData()
    {
        if (!Recovered.Snapshot.IsEmpty)
        {
            Recovered = Recovered with { Snapshot = FileBacked(Recovered.Snapshot) };
        }
    }

    public void Dispose() => Wal.Dispose();

    private static bool HasSegments(IFileSystem fileSystem, string walDirectory)
    {
        foreach (var name in fileSystem.ListFiles(walDirectory))
        {
            if (StorageFormat.TryParseSegmentFileName(name, out _))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>What reading one snapshot file found (<see cref="SnapshotStore.TryLoad"/>).</summary>
    private readonly record struct SnapshotRead(bool Loaded, Snapshot Snapshot, string? Problem)
    {
        public static SnapshotRead Of(SnapshotStore snapshots, string path) =>
            new(snapshots.TryLoad(path, out var snapshot, out var problem), snapshot, problem);
    }

    /// <summary>The newest snapshot file, being read and checked on a pool thread (null when there is none).</summary>
    private static (string Path, Task<SnapshotRead> Reading)? ReadNewestAhead(SnapshotStore snapshots) =>
        snapshots.List() is [var newest, ..] ? (newest.Path, Task.Run(() => SnapshotRead.Of(snapshots, newest.Path))) : null;

    /// <summary>
    /// Starts from the newest snapshot file that is intact and that the WAL says was durable (the newest one may already
    /// be being read: <see cref="StorageOptions.ReadSnapshotAlongsideWal"/>).
    /// </summary>
    private static RecoveredState Recover(WalReplay replay, SnapshotStore snapshots, (string Path, Task<SnapshotRead> Reading)? newestSnapshot)
    {
        var notes = new List<string>();
        if (replay.Repair is { } repair)
        {
            notes.Add(repair.ToString());
        }
        var markers = new HashSet<(ulong, ulong)>(replay.SnapshotMarkers);
        var chosen = Snapshot.Empty;
        (ulong Index, string Path, string Problem)? damaged = null;
        foreach (var (index, term, path) in snapshots.List())
        {
            if (!markers.Contains((index, term)))
            {
                notes.Add($"snapshot {path} ignored: the WAL has no record of it becoming durable (a crash before its marker was written)");
                continue;
            }
            var (loaded, snapshot, problem) = newestSnapshot is { } ahead && ahead.Path == path
                ? ahead.Reading.GetAwaiter().GetResult() // its exception, if any, as thrown
                : SnapshotRead.Of(snapshots, path);
            if (!loaded)
            {
                notes.Add($"snapshot {path} skipped: {problem}; falling back to an older snapshot");
                damaged ??= (index, path, problem ?? "unreadable");
                continue;
            }
            chosen = snapshot;
            break;
        }
        var entries = replay.EntriesAfter(chosen.Metadata.Index);
        var lastIndex = entries.Count > 0 ? entries[^1].Index : chosen.Metadata.Index;
        if (damaged is { } newest && lastIndex < newest.Index)
        {
            // A snapshot installed from the leader, ahead of this member's log: an older snapshot and the log after it
            // do not reach it, and starting from them would forget state this member made durable (and acknowledged).
            throw new StorageCorruptionException(newest.Path, 0,
                $"{newest.Problem}, and the older snapshot at {chosen.Metadata.Index} with the log after it ends at {lastIndex}, short of its index {newest.Index}");
        }
        return new RecoveredState(chosen, replay.HardState, entries, replay.Repair, notes, CreatedFresh: false);
    }
}
