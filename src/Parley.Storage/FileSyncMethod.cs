namespace Parley.Storage;

/// <summary>How <see cref="RealFileSystem"/> makes file data durable (docs/benchmarks.md compares them).</summary>
public enum FileSyncMethod
{
    /// <summary>libc fdatasync on the file descriptor (Linux): data and size, not timestamps.</summary>
    Fdatasync = 0,

    /// <summary>FileStream.Flush(flushToDisk: true): a full fsync; portable.</summary>
    FileStreamFlush = 1,
}
