namespace Parley.Torture;

/// <summary>A host-wide exclusive lock on a file (.NET takes <c>flock</c> for <see cref="FileShare.None"/>), waited for with a bound.</summary>
internal static class HostLock
{
    public static FileStream Acquire(string path, TimeSpan timeout)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (System.Diagnostics.Stopwatch.GetElapsedTime(started) < timeout)
            {
                Thread.Sleep(50);
            }
        }
    }
}
