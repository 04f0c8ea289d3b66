using System.Runtime.InteropServices;

namespace Parley.Storage;

/// <summary>The few libc calls .NET does not expose: fdatasync, fsync of a directory, sync_file_range.</summary>
internal static class NativeMethods
{
    private const int ErrorInterrupted = 4; // EINTR
    private const int ErrorInvalid = 22;    // EINVAL: sync_file_range on a file system without it
    private const int ErrorNoSeek = 29;     // ESPIPE: a pipe or socket
    private const int ErrorNoSystemCall = 38; // ENOSYS
    private const int ErrorNotSupported = 95; // EOPNOTSUPP
    private const uint SyncFileRangeWaitBefore = 1;
    private const uint SyncFileRangeWrite = 2;
    private const uint SyncFileRangeWaitAfter = 4;
    private const int OpenReadOnly = 0;     // O_RDONLY (opening a directory read-only is enough to fsync it)

    [DllImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static extern int FdataSyncNative(int fileDescriptor);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int FileSyncNative(int fileDescriptor);

    [DllImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static extern int SyncFileRangeNative(int fileDescriptor, long offset, long length, uint flags);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int OpenNative([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int CloseNative(int fileDescriptor);

    public static void FdataSync(int fileDescriptor, string path)
    {
        while (FdataSyncNative(fileDescriptor) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != ErrorInterrupted)
            {
                throw new IOException($"fdatasync failed for {path}: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})", errno);
            }
        }
    }

    /// <summary>
    /// sync_file_range: starts writing the range out (and with <paramref name="wait"/>, waits for any write-out of it in
    /// progress first and for this one after). Returns false where the file system cannot do it. An I/O error is thrown:
    /// waiting consumes the error for this open file, so a later fdatasync of it would not report it again.
    /// </summary>
    public static bool SyncFileRange(int fileDescriptor, long offset, long length, bool wait, string path)
    {
        var flags = wait ? SyncFileRangeWaitBefore | SyncFileRangeWrite | SyncFileRangeWaitAfter : SyncFileRangeWrite;
        while (SyncFileRangeNative(fileDescriptor, offset, length, flags) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is ErrorInvalid or ErrorNoSeek or ErrorNoSystemCall or ErrorNotSupported)
            {
                return false;
            }
            if (errno != ErrorInterrupted)
            {
                throw new IOException($"writing out {length} bytes at offset {offset} of {path} failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})", errno);
            }
        }
        return true;
    }

    public static void SyncDirectory(string path)
    {
        var fileDescriptor = OpenNative(path, OpenReadOnly);
        if (fileDescriptor < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"open of directory {path} for fsync failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})", errno);
        }
        try
        {
            while (FileSyncNative(fileDescriptor) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != ErrorInterrupted)
                {
                    throw new IOException($"fsync of directory {path} failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})", errno);
                }
            }
        }
        finally
        {
            _ = CloseNative(fileDescriptor);
        }
    }
}
