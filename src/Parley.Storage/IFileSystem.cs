namespace Parley.Storage;

/// <summary>
/// The storage port: everything Parley.Storage does to a disk goes through here, so that the simulator can
/// substitute a disk that loses unsynced writes, tears the last one and flips bits.
/// Contract (what the real Linux file system guarantees and the simulated one enforces):
/// file contents and size are durable only after <see cref="IStorageFile.Sync"/>; a name created, renamed or
/// removed is durable only after <see cref="SyncDirectory"/> of its parent directory.
/// Writes that fail for lack of space throw <see cref="StorageFullException"/>.
/// </summary>
public interface IFileSystem
{
    bool DirectoryExists(string path);

    /// <summary>Creates the directory and its missing parents (durable after <see cref="SyncDirectory"/> of each parent).</summary>
    void CreateDirectory(string path);

    bool FileExists(string path);

    /// <summary>Names (not paths) of the regular files directly inside <paramref name="directory"/>, in ordinal order.</summary>
    IReadOnlyList<string> ListFiles(string directory);

    /// <summary>Creates a new file (fails if it exists) with <paramref name="lengthBytes"/> of zeros allocated up front,
    /// so that later writes inside that length cannot fail for lack of space.</summary>
    IStorageFile CreateFile(string path, long lengthBytes);

    /// <summary>
    /// As <see cref="CreateFile"/>, with the zeros of the first <paramref name="zeroedBytes"/> written out and synced,
    /// not only allocated. A write into allocated but never-written space changes the file's extent map, which the
    /// fdatasync after it must write too (a second I/O per sync); overwriting written zeros changes no metadata. Slow
    /// (those bytes are written): call it off the hot path. By default the same as <see cref="CreateFile"/> (a
    /// simulated file has no extent map).
    /// </summary>
    IStorageFile CreateZeroedFile(string path, long lengthBytes, long zeroedBytes) => CreateFile(path, lengthBytes);

    IStorageFile OpenFile(string path, bool writable);

    /// <summary>Atomically renames, replacing any file at <paramref name="destinationPath"/>.</summary>
    void Rename(string sourcePath, string destinationPath);

    void DeleteFile(string path);

    /// <summary>Makes the directory's entries (creates, renames, removes) durable. Throws <see cref="IOException"/> on failure.</summary>
    void SyncDirectory(string path);
}
