using System.Buffers;
using System.Runtime.CompilerServices;
using Parley.Raft;

namespace Parley.Storage;

/// <summary>
/// A snapshot's data that stays in its file until something reads it. A member keeps its newest snapshot for a
/// follower that falls too far behind, which is rare; holding the bytes in memory meanwhile would double the memory
/// of a large keyspace. The first read loads and verifies the file (once; later reads share the bytes).
/// </summary>
internal sealed class FileBackedSnapshotData : MemoryManager<byte>
{
    private readonly IFileSystem _fileSystem;
    private readonly string _path;
    private readonly StorageIdentity _identity;
    private readonly int _length;
    private readonly Lock _lock = new();
    private byte[]? _file; // the whole file, allocated pinned
    private int _offset;

    public FileBackedSnapshotData(IFileSystem fileSystem, string path, StorageIdentity identity, int length)
    {
        _fileSystem = fileSystem;
        _path = path;
        _identity = identity;
        _length = length;
    }

    public ReadOnlyMemory<byte> Data => CreateMemory(_length);

    public bool IsLoaded => Volatile.Read(ref _file) is not null;

    public override Span<byte> GetSpan() => Load().AsSpan(_offset, _length);

    public override unsafe MemoryHandle Pin(int elementIndex = 0)
    {
        var file = Load(); // on the pinned object heap: it never moves
        return new MemoryHandle(Unsafe.AsPointer(ref file[_offset + elementIndex]));
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }

    private byte[] Load()
    {
        if (Volatile.Read(ref _file) is { } loaded)
        {
            return loaded;
        }
        lock (_lock)
        {
            if (_file is not null)
            {
                return _file;
            }
            using var file = _fileSystem.OpenFile(_path, writable: false);
            var content = GC.AllocateUninitializedArray<byte>(checked((int)file.Length), pinned: true);
            if (file.Read(0, content) != content.Length
                || !SnapshotFile.TryDecode(content, _identity, out var snapshot, out var problem, out var dataOffset)
                || snapshot.Data.Length != _length)
            {
                throw new StorageCorruptionException(_path, 0, "the snapshot file changed or was damaged after it was written or loaded");
            }
            _offset = dataOffset;
            Volatile.Write(ref _file, content);
            return content;
        }
    }
}
