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
}
