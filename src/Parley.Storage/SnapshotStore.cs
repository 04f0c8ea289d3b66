using Parley.Raft;

namespace Parley.Storage;

/// <summary>
/// Snapshot files in one directory, named <c>{index:x16}-{term:x16}.snap</c>, each written atomically
/// (temporary name, fsync, rename, directory fsync) and checksummed; the newest few are kept.
/// Safe to call from two threads (the node loop, and a background snapshot writer).
/// </summary>
public sealed class SnapshotStore
{
    private readonly IFileSystem _fileSystem;
    private readonly StorageIdentity _identity;
    private readonly StorageOptions _options;
    private readonly Lock _lock = new();

    public SnapshotStore(IFileSystem fileSystem, string directory, StorageIdentity identity, StorageOptions options)
    {
        _fileSystem = fileSystem;
        Directory = directory;
        _identity = identity;
        _options = options;
    }

    public string Directory { get; }

    /// <summary>Writes the snapshot durably. Throws <see cref="StorageFullException"/> (leaving nothing behind) if it does not fit.</summary>
    public string Save(Snapshot snapshot)
    {
        lock (_lock)
        {
            Invariant.Check(!snapshot.IsEmpty, "saving an empty snapshot");
            var path = Path.Combine(Directory, StorageFormat.SnapshotFileName(snapshot.Metadata.Index, snapshot.Metadata.Term));
            DurableFile.WriteAtomically(_fileSystem, path, SnapshotFile.Encode(snapshot, _identity), _options);
            return path;
        }
    }

    /// <summary>Snapshot files by name, newest (highest index) first.</summary>
    public List<(ulong Index, ulong Term, string Path)> List()
    {
        lock (_lock)
        {
            var snapshots = new List<(ulong Index, ulong Term, string Path)>();
            foreach (var name in _fileSystem.ListFiles(Directory))
            {
                if (StorageFormat.TryParseSnapshotFileName(name, out var index, out var term))
                {
                    snapshots.Add((index, term, Path.Combine(Directory, name)));
                }
            }
            snapshots.Sort((a, b) => b.Index != a.Index ? b.Index.CompareTo(a.Index) : b.Term.CompareTo(a.Term));
            return snapshots;
        }
    }

    /// <summary>Reads and verifies one file; false with the reason when it is damaged or not ours.</summary>
    public bool TryLoad(string path, out Snapshot snapshot, out string? problem)
    {
        lock (_lock)
        {
            byte[] content;
            using (var file = _fileSystem.OpenFile(path, writable: false))
            {
                content = new byte[file.Length];
                if (file.Read(0, content) != content.Length)
                {
                    snapshot = Snapshot.Empty;
                    problem = "short read";
                    return false;
                }
            }
            if (!SnapshotFile.TryDecode(content, _identity, out snapshot, out problem, verifyChecksum: !_options.SkipChecksumVerification))
            {
                return false;
            }
            if (!StorageFormat.TryParseSnapshotFileName(Path.GetFileName(path), out var index, out var term)
                || index != snapshot.Metadata.Index || term != snapshot.Metadata.Term)
            {
                problem = $"file name does not match its content ({snapshot.Metadata.Index}/{snapshot.Metadata.Term})";
                return false;
            }
            return true;
        }
    }

    /// <summary>
    /// The same snapshot with its data left in its file (written by <see cref="Save"/> or found at recovery): read, and
    /// verified again, only when something reads the data (a follower that needs the whole snapshot).
    /// </summary>
    public Snapshot FileBacked(Snapshot snapshot)
    {
        Invariant.Check(!snapshot.IsEmpty, "an empty snapshot has no file");
        var path = Path.Combine(Directory, StorageFormat.SnapshotFileName(snapshot.Metadata.Index, snapshot.Metadata.Term));
        return snapshot with { Data = new FileBackedSnapshotData(_fileSystem, path, _identity, snapshot.Data.Length).Data };
    }

    /// <summary>Deletes all but the newest <paramref name="keep"/> snapshot files; returns how many were deleted.</summary>
    public int Prune(int keep)
    {
        lock (_lock)
        {
            var snapshots = List();
            if (snapshots.Count <= keep)
            {
                return 0;
            }
            for (var i = keep; i < snapshots.Count; i++)
            {
                _fileSystem.DeleteFile(snapshots[i].Path);
            }
            try
            {
                _fileSystem.SyncDirectory(Directory);
            }
            catch (IOException exception)
            {
                DurableFile.Fatal(_options, $"fsync of directory {Directory} failed: {exception.Message}", exception);
            }
            return snapshots.Count - keep;
        }
    }
}
