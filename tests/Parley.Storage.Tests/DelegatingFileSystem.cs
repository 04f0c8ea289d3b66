using Parley.Storage;

namespace Parley.Storage.Tests;

/// <summary>Forwards every call to another file system; a test's wrapper overrides only what it changes.</summary>
public abstract class DelegatingFileSystem(IFileSystem inner) : IFileSystem
{
    public virtual bool DirectoryExists(string path) => inner.DirectoryExists(path);

    public virtual void CreateDirectory(string path) => inner.CreateDirectory(path);

    public virtual bool FileExists(string path) => inner.FileExists(path);

    public virtual IReadOnlyList<string> ListFiles(string directory) => inner.ListFiles(directory);

    public virtual IStorageFile CreateFile(string path, long lengthBytes) => Wrap(inner.CreateFile(path, lengthBytes));

    public virtual IStorageFile CreateZeroedFile(string path, long lengthBytes, long zeroedBytes) => Wrap(inner.CreateZeroedFile(path, lengthBytes, zeroedBytes));

    public virtual IStorageFile OpenFile(string path, bool writable) => Wrap(inner.OpenFile(path, writable));

    public virtual void Rename(string sourcePath, string destinationPath) => inner.Rename(sourcePath, destinationPath);

    public virtual void DeleteFile(string path) => inner.DeleteFile(path);

    public virtual void SyncDirectory(string path) => inner.SyncDirectory(path);

    /// <summary>What a created or opened file is handed out as: the inner file system's own file unless overridden.</summary>
    protected virtual IStorageFile Wrap(IStorageFile file) => file;
}

/// <summary>Forwards every call to another file; a test's wrapper overrides only what it changes.</summary>
public abstract class DelegatingStorageFile(IStorageFile inner) : IStorageFile
{
    public string Path => inner.Path;

    public long Length => inner.Length;

    public virtual int Read(long offset, Span<byte> buffer) => inner.Read(offset, buffer);

    public virtual void Write(long offset, ReadOnlySpan<byte> data) => inner.Write(offset, data);

    public virtual void Sync() => inner.Sync();

    public virtual void WriteBack(long offset, long length, bool wait) => inner.WriteBack(offset, length, wait);

    public virtual void Dispose()
    {
        inner.Dispose();
        GC.SuppressFinalize(this);
    }
}
