using Microsoft.Win32.SafeHandles;

namespace Parley.Storage;

internal sealed class RealStorageFile : IStorageFile
{
    private readonly SafeFileHandle _handle;
    private readonly FileSyncMethod _syncMethod;
    private FileStream? _flushStream;
    private bool _writeBackUnsupported = !OperatingSystem.IsLinux();

    public RealStorageFile(string path, SafeFileHandle handle, FileSyncMethod syncMethod)
    {
        Path = path;
        _handle = handle;
        _syncMethod = syncMethod;
    }

    public string Path { get; }

    public long Length => RandomAccess.GetLength(_handle);

    public int Read(long offset, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = RandomAccess.Read(_handle, buffer[total..], offset + total);
            if (read == 0)
            {
                break;
            }
            total += read;
        }
        return total;
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        try
        {
            RandomAccess.Write(_handle, data, offset);
        }
        catch (IOException exception) when (RealFileSystem.IsDiskFull(exception))
        {
            throw new StorageFullException($"no space left on the device writing {data.Length} bytes to {Path} at offset {offset}", exception);
        }
    }

    public void Sync()
    {
        if (_syncMethod == FileSyncMethod.Fdatasync)
        {
            var descriptor = AcquireDescriptor(out var added);
            try
            {
                NativeMethods.FdataSync(descriptor, Path);
            }
            finally
            {
                ReleaseDescriptor(added);
            }
            return;
        }
        _flushStream ??= new FileStream(_handle, FileAccess.ReadWrite, bufferSize: 0);
        _flushStream.Flush(flushToDisk: true);
    }

    /// <summary>False once the file system has refused <see cref="WriteBack"/> (or off Linux): it is then not asked again.</summary>
    internal bool WriteBackSupported => !_writeBackUnsupported;

    public void WriteBack(long offset, long length, bool wait)
    {
        if (_writeBackUnsupported || length <= 0)
        {
            return;
        }
        var descriptor = AcquireDescriptor(out var added);
        try
        {
            _writeBackUnsupported = !NativeMethods.SyncFileRange(descriptor, offset, length, wait, Path);
        }
        finally
        {
            ReleaseDescriptor(added);
        }
    }

    /// <summary>The file descriptor, kept open until <see cref="ReleaseDescriptor"/> (a concurrent dispose cannot close it meanwhile).</summary>
    private int AcquireDescriptor(out bool added)
    {
        added = false;
        _handle.DangerousAddRef(ref added);
        return (int)_handle.DangerousGetHandle();
    }

    private void ReleaseDescriptor(bool added)
    {
        if (added)
        {
            _handle.DangerousRelease();
        }
    }

    public void Dispose()
    {
        // The stream (if any) owns the same handle; disposing either closes it once.
        if (_flushStream is not null)
        {
            _flushStream.Dispose();
        }
        _handle.Dispose();
    }
}
