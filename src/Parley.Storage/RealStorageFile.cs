using Microsoft.Win32.SafeHandles;

namespace Parley.Storage;

internal sealed class RealStorageFile : IStorageFile
{
    private readonly SafeFileHandle _handle;
    private readonly FileSyncMethod _syncMethod;
    private FileStream? _flushStream;

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
            var added = false;
            _handle.DangerousAddRef(ref added);
            try
            {
                NativeMethods.FdataSync((int)_handle.DangerousGetHandle(), Path);
            }
            finally
            {
                if (added)
                {
                    _handle.DangerousRelease();
                }
            }
            return;
        }
        _flushStream ??= new FileStream(_handle, FileAccess.ReadWrite, bufferSize: 0);
        _flushStream.Flush(flushToDisk: true);
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
