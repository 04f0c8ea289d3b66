using System.Buffers;
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
        var data = snapshot.Data;
        return Save(snapshot.Metadata, data.Length, output => output.Write(data.Span));
    }

    /// <summary>
    /// As <see cref="Save(Snapshot)"/>, streaming: <paramref name="writeData"/> writes exactly <paramref name="dataLength"/>
    /// bytes of data, which go to the file a buffer at a time (the data never has to exist in memory as a whole).
    /// </summary>
    public string Save(SnapshotMetadata metadata, long dataLength, Action<IBufferWriter<byte>> writeData)
    {
        Invariant.Check(metadata.Index > 0, "saving an empty snapshot");
        lock (_lock)
        {
            var path = Path.Combine(Directory, StorageFormat.SnapshotFileName(metadata.Index, metadata.Term));
            var header = SnapshotFile.EncodeHeader(metadata, dataLength, _identity);
            DurableFile.WriteAtomically(_fileSystem, path, SnapshotFile.EncodedLength(metadata, dataLength), file =>
            {
                var writer = new SnapshotFileWriter(file, header, dataLength);
                writeData(writer);
                writer.Complete();
            }, _options);
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
    public Snapshot FileBacked(Snapshot snapshot) => FileBacked(snapshot.Metadata, snapshot.Data.Length);

    /// <summary>See <see cref="FileBacked(Snapshot)"/>.</summary>
    public Snapshot FileBacked(SnapshotMetadata metadata, int dataLength)
    {
        Invariant.Check(metadata.Index > 0, "an empty snapshot has no file");
        var path = Path.Combine(Directory, StorageFormat.SnapshotFileName(metadata.Index, metadata.Term));
        return new Snapshot(metadata, new FileBackedSnapshotData(_fileSystem, path, _identity, dataLength).Data);
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
