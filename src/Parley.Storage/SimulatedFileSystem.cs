namespace Parley.Storage;

/// <summary>
/// A deterministic in-memory disk for the simulator and tests. It keeps, per file, what the page cache holds and
/// what is durable, and per directory which names are durable. <see cref="Crash"/> keeps only durable state: every
/// write not yet synced is lost, except that the last one may be torn (some of its sectors survive, in any order);
/// unsynced creates, renames and removes are undone. Faults: <see cref="FlipBit"/>, <see cref="FailNextSyncs"/>,
/// <see cref="CapacityBytes"/>. Every choice comes from the <see cref="Random"/> passed in; not thread-safe.
/// </summary>
public sealed class SimulatedFileSystem : IFileSystem
{
    public const int SectorSizeBytes = 512;

    private readonly Random _random;
    private readonly SortedDictionary<string, SimulatedInode> _files = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, SimulatedInode> _durableFiles = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _directories = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _durableDirectories = new(StringComparer.Ordinal);
    private int _syncFailuresPending;

    public SimulatedFileSystem(Random random)
    {
        _random = random;
        _directories.Add("/");
        _durableDirectories.Add("/");
    }

    /// <summary>Chance that a crash tears the last unsynced write of a file (keeps some of its sectors) instead of losing it whole.</summary>
    public double TearProbability { get; set; } = 0.5;

    /// <summary>Total bytes of file length the disk holds before writes throw <see cref="StorageFullException"/>.</summary>
    public long CapacityBytes { get; set; } = long.MaxValue;

    public long UsedBytes
    {
        get
        {
            long used = 0;
            foreach (var inode in _files.Values)
            {
                used += inode.CurrentLength;
            }
            return used;
        }
    }

    /// <summary>
    /// Injected bug for the simulator only (<c>parley sim --inject-bug skip-fsync</c>): file syncs succeed without making
    /// anything durable, so a crash loses every write since the file was created. Directory syncs still work. Off by default.
    /// </summary>
    public bool IgnoreFileSyncs { get; set; }

    public long FileSyncCount { get; private set; }

    public long DirectorySyncCount { get; private set; }

    internal int Generation { get; private set; }

    public bool DirectoryExists(string path) => _directories.Contains(Normalize(path));

    public void CreateDirectory(string path)
    {
        for (var directory = Normalize(path); !_directories.Contains(directory); directory = Parent(directory))
        {
            _directories.Add(directory);
        }
    }

    public bool FileExists(string path) => _files.ContainsKey(Normalize(path));

    public IReadOnlyList<string> ListFiles(string directory)
    {
        var normalized = Normalize(directory);
        RequireDirectory(normalized);
        var names = new List<string>();
        foreach (var path in _files.Keys)
        {
            if (Parent(path) == normalized)
            {
                names.Add(path[(path.LastIndexOf('/') + 1)..]);
            }
        }
        return names;
    }

    public IStorageFile CreateFile(string path, long lengthBytes)
    {
        var normalized = Normalize(path);
        RequireDirectory(Parent(normalized));
        if (_files.ContainsKey(normalized))
        {
            throw new IOException($"{normalized} already exists");
        }
        Reserve(lengthBytes, normalized);
        var inode = new SimulatedInode();
        inode.SetLength(lengthBytes);
        _files[normalized] = inode;
        return new SimulatedStorageFile(this, normalized, inode, writable: true);
    }

    public IStorageFile OpenFile(string path, bool writable)
    {
        var normalized = Normalize(path);
        if (!_files.TryGetValue(normalized, out var inode))
        {
            throw new FileNotFoundException($"{normalized} does not exist", normalized);
        }
        return new SimulatedStorageFile(this, normalized, inode, writable);
    }

    public void Rename(string sourcePath, string destinationPath)
    {
        var source = Normalize(sourcePath);
        var destination = Normalize(destinationPath);
        if (!_files.Remove(source, out var inode))
        {
            throw new FileNotFoundException($"{source} does not exist", source);
        }
        RequireDirectory(Parent(destination));
        _files[destination] = inode;
    }

    public void DeleteFile(string path) => _files.Remove(Normalize(path));

    public void SyncDirectory(string path)
    {
        var directory = Normalize(path);
        RequireDirectory(directory);
        TakeSyncFailure(directory);
        DirectorySyncCount++;
        foreach (var name in ChildrenOf(directory, _durableFiles.Keys))
        {
            if (!_files.ContainsKey(name))
            {
                _durableFiles.Remove(name);
            }
        }
        foreach (var name in ChildrenOf(directory, _files.Keys))
        {
            _durableFiles[name] = _files[name];
        }
        _durableDirectories.RemoveWhere(d => Parent(d) == directory && d != directory && !_directories.Contains(d));
        foreach (var child in ChildrenOf(directory, _directories))
        {
            _durableDirectories.Add(child);
        }
    }

    /// <summary>
    /// Power loss: the namespace reverts to its durable entries and every file to its durable bytes, except that the
    /// last unsynced write of each file may be torn. Handles opened before the crash stop working.
    /// </summary>
    public void Crash() => CrashCore(ChooseTear);

    /// <summary>
    /// A crash whose tear the caller picks: of each file's last unsynced write, sector i of n survives when
    /// <paramref name="keepSector"/>(i, n) is true (for tests that need one exact tear).
    /// </summary>
    public void Crash(Func<int, int, bool> keepSector) => CrashCore(() => keepSector);

    private void CrashCore(Func<Func<int, int, bool>?> chooseTear)
    {
        Generation++;
        _files.Clear();
        _directories.Clear();
        foreach (var directory in _durableDirectories)
        {
            if (directory == "/" || _durableDirectories.Contains(Parent(directory)))
            {
                _directories.Add(directory);
            }
        }
        var seen = new HashSet<SimulatedInode>(ReferenceEqualityComparer.Instance);
        foreach (var (path, inode) in _durableFiles)
        {
            if (!_directories.Contains(Parent(path)))
            {
                continue;
            }
            _files[path] = inode;
            if (seen.Add(inode))
            {
                inode.Crash(chooseTear(), SectorSizeBytes);
            }
        }
        _durableFiles.Clear();
        foreach (var (path, inode) in _files)
        {
            _durableFiles[path] = inode;
        }
        _durableDirectories.Clear();
        _durableDirectories.UnionWith(_directories);
    }

    /// <summary>Flips one bit of stored data, in the page cache and on the platter alike (bit rot, a bad cable).</summary>
    public void FlipBit(string path, long offset, int bit)
    {
        var normalized = Normalize(path);
        if (!_files.TryGetValue(normalized, out var inode))
        {
            throw new FileNotFoundException($"{normalized} does not exist", normalized);
        }
        if (offset < 0 || offset >= inode.CurrentLength || bit is < 0 or > 7)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"offset {offset} bit {bit} outside {normalized} ({inode.CurrentLength} bytes)");
        }
        inode.FlipBit(offset, bit);
    }

    /// <summary>Flips a random bit in [<paramref name="fromOffset"/>, <paramref name="toOffset"/>) and returns its offset.</summary>
    public long FlipRandomBit(string path, long fromOffset, long toOffset)
    {
        var offset = _random.NextInt64(fromOffset, toOffset);
        FlipBit(path, offset, _random.Next(8));
        return offset;
    }

    /// <summary>The next <paramref name="count"/> file or directory syncs fail with an <see cref="IOException"/>.</summary>
    public void FailNextSyncs(int count) => _syncFailuresPending = count;

    internal void SyncFile(SimulatedInode inode, string path)
    {
        if (_syncFailuresPending > 0)
        {
            inode.DropUnsynced();
        }
        TakeSyncFailure(path);
        FileSyncCount++;
        if (IgnoreFileSyncs)
        {
            return;
        }
        inode.Sync();
    }

    internal void Reserve(long growthBytes, string path)
    {
        if (growthBytes > 0 && UsedBytes + growthBytes > CapacityBytes)
        {
            throw new StorageFullException($"no space left on the simulated device for {growthBytes} more bytes of {path}");
        }
    }

    private void TakeSyncFailure(string path)
    {
        if (_syncFailuresPending > 0)
        {
            _syncFailuresPending--;
            throw new IOException($"simulated sync failure on {path}");
        }
    }

    private Func<int, int, bool>? ChooseTear()
    {
        if (_random.NextDouble() >= TearProbability)
        {
            return null;
        }
        if (_random.Next(2) == 0)
        {
            // A prefix of the sectors reached the platter, in order.
            var keptSectors = -1;
            return (sector, sectorCount) =>
            {
                if (keptSectors < 0)
                {
                    keptSectors = _random.Next(sectorCount + 1);
                }
                return sector < keptSectors;
            };
        }
        // The drive reordered the write: any subset of its sectors survived.
        return (_, _) => _random.Next(2) == 0;
    }

    private void RequireDirectory(string directory)
    {
        if (!_directories.Contains(directory))
        {
            throw new DirectoryNotFoundException($"{directory} does not exist");
        }
    }

    private static List<string> ChildrenOf(string directory, IEnumerable<string> paths)
    {
        var children = new List<string>();
        foreach (var path in paths)
        {
            if (path != directory && Parent(path) == directory)
            {
                children.Add(path);
            }
        }
        return children;
    }

    private static string Normalize(string path)
    {
        var normalized = path.Replace('\\', '/');
        if (!normalized.StartsWith('/'))
        {
            normalized = "/" + normalized;
        }
        return normalized.Length > 1 ? normalized.TrimEnd('/') : normalized;
    }

    private static string Parent(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }
}
