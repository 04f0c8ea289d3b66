namespace Parley.Storage;

/// <summary>An open file of an <see cref="IFileSystem"/>: positional reads and writes, and a data sync.</summary>
public interface IStorageFile : IDisposable
{
    string Path { get; }

    long Length { get; }

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/>; fewer only at the end of the file.</summary>
    int Read(long offset, Span<byte> buffer);

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/> (not durable until <see cref="Sync"/>).</summary>
    void Write(long offset, ReadOnlySpan<byte> data);

    /// <summary>fdatasync: every write so far, and the file length, become durable. Throws <see cref="IOException"/> on failure,
    /// after which the written data must be considered lost (the kernel may have dropped the dirty pages).</summary>
    void Sync();

    /// <summary>
    /// Starts writing the range's data out to the device now, and with <paramref name="wait"/> waits until it is written
    /// (Linux sync_file_range). Not a durability step: no metadata, no device cache flush; only <see cref="Sync"/> makes
    /// data durable. A large file written in one go otherwise reaches the disk all at once in its final
    /// <see cref="Sync"/>, and every other file's sync on that disk queues behind it.
    /// Does nothing where the operating or file system cannot do it; throws <see cref="IOException"/> when writing out
    /// fails (the data must then be considered lost, as after a failed <see cref="Sync"/>).
    /// </summary>
    void WriteBack(long offset, long length, bool wait);
}
