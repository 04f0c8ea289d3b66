namespace Parley.Storage;

internal sealed class SimulatedStorageFile : IStorageFile
{
    private readonly SimulatedFileSystem _fileSystem;
    private readonly SimulatedInode _inode;
    private readonly int _generation;
    private readonly bool _writable;
    private bool _disposed;

    public SimulatedStorageFile(SimulatedFileSystem fileSystem, string path, SimulatedInode inode, bool writable)
    {
        _fileSystem = fileSystem;
        Path = path;
        _inode = inode;
        _writable = writable;
        _generation = fileSystem.Generation;
    }

    public string Path { get; }

    public long Length
    {
        get
        {
            CheckOpen();
            return _inode.CurrentLength;
        }
    }

    public int Read(long offset, Span<byte> buffer)
    {
        CheckOpen();
        return _inode.Read(offset, buffer);
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        CheckOpen();
        if (!_writable)
        {
            throw new UnauthorizedAccessException($"{Path} is open read-only");
        }
        var growthBytes = Math.Max(0, offset + data.Length - _inode.CurrentLength);
        _fileSystem.Reserve(growthBytes, Path);
        _inode.Write(offset, data);
    }

    public void Sync()
    {
        CheckOpen();
        _fileSystem.SyncFile(_inode, Path);
    }

    /// <summary>Only when data reaches the disk changes, not what a crash keeps: unsynced writes stay unsynced.</summary>
    public void WriteBack(long offset, long length, bool wait) => CheckOpen();

    public void Dispose() => _disposed = true;

    private void CheckOpen()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_generation != _fileSystem.Generation)
        {
            throw new IOException($"{Path}: handle from before a simulated crash");
        }
    }
}
