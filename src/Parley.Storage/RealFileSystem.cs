using Microsoft.Win32.SafeHandles;

namespace Parley.Storage;

/// <summary>The operating system's file system. Thread-safe (it holds no state of its own).</summary>
public sealed class RealFileSystem : IFileSystem
{
    private const int ZeroFillChunkBytes = 1024 * 1024;

    public RealFileSystem(FileSyncMethod syncMethod = FileSyncMethod.Fdatasync)
    {
        SyncMethod = OperatingSystem.IsLinux() ? syncMethod : FileSyncMethod.FileStreamFlush;
    }

    public FileSyncMethod SyncMethod { get; }

    public bool DirectoryExists(string path) => Directory.Exists(path);

    public void CreateDirectory(string path) => Directory.CreateDirectory(path);

    public bool FileExists(string path) => File.Exists(path);

    public IReadOnlyList<string> ListFiles(string directory)
    {
        var names = new List<string>();
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            names.Add(Path.GetFileName(path));
        }
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    public IStorageFile CreateFile(string path, long lengthBytes)
    {
        SafeFileHandle? handle = null;
        try
        {
            handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, FileOptions.None, lengthBytes);
            // preallocationSize reserves the blocks (fallocate) but may leave the length at 0.
            if (RandomAccess.GetLength(handle) != lengthBytes)
            {
                RandomAccess.SetLength(handle, lengthBytes);
            }
            return new RealStorageFile(path, handle, SyncMethod);
        }
        catch (IOException exception) when (IsDiskFull(exception))
        {
            handle?.Dispose();
            TryDelete(path);
            throw new StorageFullException($"no space left on the device for {path} ({lengthBytes} bytes): free space or move the data directory", exception);
        }
    }

    public IStorageFile CreateZeroedFile(string path, long lengthBytes, long zeroedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(zeroedBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(zeroedBytes, lengthBytes);
        var file = CreateFile(path, lengthBytes);
        try
        {
            var zeros = new byte[(int)Math.Min(ZeroFillChunkBytes, Math.Max(zeroedBytes, 1))];
            for (long offset = 0; offset < zeroedBytes; offset += zeros.Length)
            {
                file.Write(offset, zeros.AsSpan(0, (int)Math.Min(zeros.Length, zeroedBytes - offset)));
            }
            file.Sync();
            return file;
        }
        catch
        {
            file.Dispose();
            TryDelete(path);
            throw;
        }
    }

    public IStorageFile OpenFile(string path, bool writable)
    {
        var handle = File.OpenHandle(path, FileMode.Open, writable ? FileAccess.ReadWrite : FileAccess.Read, FileShare.ReadWrite);
        return new RealStorageFile(path, handle, SyncMethod);
    }

    public void Rename(string sourcePath, string destinationPath) => File.Move(sourcePath, destinationPath, overwrite: true);

    public void DeleteFile(string path) => File.Delete(path);

    public void SyncDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // NTFS journals directory changes; there is no directory handle to flush.
        }
        NativeMethods.SyncDirectory(path);
    }

    internal static bool IsDiskFull(IOException exception)
    {
        const int LinuxNoSpace = 28;           // ENOSPC
        const int LinuxQuotaExceeded = 122;    // EDQUOT
        const int WindowsDiskFull = 0x70;      // ERROR_DISK_FULL
        const int WindowsHandleDiskFull = 0x27; // ERROR_HANDLE_DISK_FULL
        var code = exception.HResult & 0xFFFF;
        return exception is StorageFullException || code is LinuxNoSpace or LinuxQuotaExceeded or WindowsDiskFull or WindowsHandleDiskFull
            // .NET reports a failed preallocation with COR_E_IO and "... because the disk was full".
            || exception.Message.Contains("space", StringComparison.OrdinalIgnoreCase)
            || exception.Message.Contains("disk was full", StringComparison.OrdinalIgnoreCase);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temporary file is removed at the next start.
        }
    }
}
