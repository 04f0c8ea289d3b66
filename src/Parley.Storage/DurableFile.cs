namespace Parley.Storage;

/// <summary>Whole-file writes that are either absent or complete after a crash, and the fatal-sync policy.</summary>
internal static class DurableFile
{
    /// <summary>Writes under a temporary name, syncs, renames over <paramref name="path"/>, syncs the directory.
    /// Disk full removes the temporary file and throws <see cref="StorageFullException"/>; a failed sync is fatal.</summary>
    public static void WriteAtomically(IFileSystem fileSystem, string path, ReadOnlySpan<byte> content, StorageOptions options)
    {
        var bytes = content.ToArray();
        WriteAtomically(fileSystem, path, bytes.Length, file => file.Write(0, bytes), options);
    }

    /// <summary>As above, for content that <paramref name="write"/> writes into a file created with exactly <paramref name="length"/> bytes.</summary>
    public static void WriteAtomically(IFileSystem fileSystem, string path, long length, Action<IStorageFile> write, StorageOptions options)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temporaryPath = path + StorageFormat.TemporaryExtension;
        if (fileSystem.FileExists(temporaryPath))
        {
            fileSystem.DeleteFile(temporaryPath);
        }
        IStorageFile? file = null;
        try
        {
            file = fileSystem.CreateFile(temporaryPath, length);
            write(file);
        }
        catch (StorageFullException exception)
        {
            Abandon(fileSystem, file, temporaryPath);
            throw new StorageFullException($"cannot write {path} ({length} bytes): the device is full; free space and retry", exception);
        }
        catch
        {
            Abandon(fileSystem, file, temporaryPath); // a half-written temporary file is never renamed
            throw;
        }
        using (file)
        {
            try
            {
                file.Sync();
                fileSystem.Rename(temporaryPath, path);
                fileSystem.SyncDirectory(directory);
            }
            catch (IOException exception)
            {
                Fatal(options, $"making {path} durable failed: {exception.Message}", exception);
            }
        }
    }

    private static void Abandon(IFileSystem fileSystem, IStorageFile? file, string temporaryPath)
    {
        file?.Dispose();
        if (fileSystem.FileExists(temporaryPath))
        {
            fileSystem.DeleteFile(temporaryPath);
        }
    }

    /// <summary>Creates a directory and any missing parents so that each survives a crash.</summary>
    public static void EnsureDirectory(IFileSystem fileSystem, string path, StorageOptions options)
    {
        if (fileSystem.DirectoryExists(path))
        {
            return;
        }
        var parent = Path.GetDirectoryName(path);
        if (parent is not null)
        {
            EnsureDirectory(fileSystem, parent, options);
        }
        fileSystem.CreateDirectory(path);
        if (parent is null)
        {
            return;
        }
        try
        {
            fileSystem.SyncDirectory(parent);
        }
        catch (IOException exception)
        {
            Fatal(options, $"fsync of directory {parent} failed: {exception.Message}", exception);
        }
    }

    public static void RemoveTemporaryFiles(IFileSystem fileSystem, string directory)
    {
        var removed = false;
        foreach (var name in fileSystem.ListFiles(directory))
        {
            if (name.EndsWith(StorageFormat.TemporaryExtension, StringComparison.Ordinal))
            {
                fileSystem.DeleteFile(Path.Combine(directory, name));
                removed = true;
            }
        }
        if (removed)
        {
            fileSystem.SyncDirectory(directory);
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void Fatal(StorageOptions options, string message, Exception exception)
    {
        options.FatalHandler(message);
        throw new StorageFatalException(message, exception);
    }
}
