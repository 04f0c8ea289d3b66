using Parley.Storage;

namespace Parley.Storage.Tests;

/// <summary>Thrown instead of performing an I/O operation: the power went out just before it.</summary>
public sealed class PowerCutException : Exception
{
    public PowerCutException()
    {
    }

    public PowerCutException(string message) : base(message)
    {
    }

    public PowerCutException(string message, Exception inner) : base(message, inner)
    {
    }
}

/// <summary>
/// Wraps a <see cref="SimulatedFileSystem"/> and cuts the power at a chosen mutating operation (write, sync, create,
/// rename, delete, directory sync): that operation and everything after it never happen. Follow with
/// <see cref="SimulatedFileSystem.Crash"/> to see what survived.
/// </summary>
public sealed class PowerCutFileSystem(SimulatedFileSystem inner) : IFileSystem
{
    public SimulatedFileSystem Inner { get; } = inner;

    /// <summary>Mutating operations left before the cut; negative means never.</summary>
    public long OperationsBeforeCut { get; set; } = -1;

    /// <summary>When set, only file syncs count and are cut (the write before them still happens).</summary>
    public bool CutOnlySyncs { get; set; }

    public long OperationCount { get; private set; }

    internal void Tick(bool isSync)
    {
        if (CutOnlySyncs && !isSync)
        {
            return;
        }
        OperationCount++;
        if (OperationsBeforeCut == 0)
        {
            throw new PowerCutException("power cut");
        }
        if (OperationsBeforeCut > 0)
        {
            OperationsBeforeCut--;
        }
    }

    public bool DirectoryExists(string path) => Inner.DirectoryExists(path);

    public void CreateDirectory(string path)
    {
        Tick(false);
        Inner.CreateDirectory(path);
    }

    public bool FileExists(string path) => Inner.FileExists(path);

    public IReadOnlyList<string> ListFiles(string directory) => Inner.ListFiles(directory);

    public IStorageFile CreateFile(string path, long lengthBytes)
    {
        Tick(false);
        return new File(this, Inner.CreateFile(path, lengthBytes));
    }

    public IStorageFile OpenFile(string path, bool writable) => new File(this, Inner.OpenFile(path, writable));

    public void Rename(string sourcePath, string destinationPath)
    {
        Tick(false);
        Inner.Rename(sourcePath, destinationPath);
    }

    public void DeleteFile(string path)
    {
        Tick(false);
        Inner.DeleteFile(path);
    }

    public void SyncDirectory(string path)
    {
        Tick(true);
        Inner.SyncDirectory(path);
    }

    private sealed class File(PowerCutFileSystem owner, IStorageFile inner) : IStorageFile
    {
        public string Path => inner.Path;

        public long Length => inner.Length;

        public int Read(long offset, Span<byte> buffer) => inner.Read(offset, buffer);

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            owner.Tick(false);
            inner.Write(offset, data);
        }

        public void Sync()
        {
            owner.Tick(true);
            inner.Sync();
        }

        public void Dispose() => inner.Dispose();
    }
}
