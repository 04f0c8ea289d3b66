using System.Runtime.InteropServices;

namespace Parley.Storage;

/// <summary>The few libc calls .NET does not expose: fdatasync and fsync of a directory.</summary>
internal static class NativeMethods
{
    private const int ErrorInterrupted = 4; // EINTR
    private const int OpenReadOnly = 0;     // O_RDONLY (opening a directory read-only is enough to fsync it)

    [DllImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static extern int FdataSyncNative(int fileDescriptor);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int FileSyncNative(int fileDescriptor);

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
