using Parley.Mvcc;
using Parley.Node;
using Parley.Storage;

namespace Parley.Server.Backup;

/// <summary>
/// <c>parley snapshot restore</c>: turns a snapshot file into one member's new data directory. Run it once per member
/// with the same --initial-cluster and --initial-cluster-token (and each member's own --name); then <c>parley serve</c>
/// with those flags (state new) on each directory starts a cluster holding every key, revision, lease, user and role
/// of the snapshot. The ids are the ones <c>parley serve</c> computes from the same flags (<see cref="MemberDirectory"/>).
/// </summary>
public static class SnapshotRestore
{
    /// <summary>
    /// Verifies the file (SHA-256 trailer unless <paramref name="skipHashCheck"/>, then its own checksum and keyspace),
    /// refuses a data directory that is not new or empty, and writes the directory through
    /// <see cref="MemberRestore.CreateDataDirectory"/>: built beside the target under a temporary name and renamed into
    /// place at the end, so an interrupted restore never leaves a directory that <c>parley serve</c> would start from.
    /// Throws <see cref="SnapshotFileException"/> (file or directory refused) or <see cref="ServerOptionsException"/>.
    /// </summary>
    public static RestoredMember Restore(string snapshotPath, ServerOptions options, bool skipHashCheck)
    {
        var contents = ReadFile(snapshotPath, skipHashCheck ? BackupCheck.SkipTrailer : BackupCheck.RequireTrailer);
        var dataDirectory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.DataDirectory));
        if (File.Exists(dataDirectory))
        {
            throw new SnapshotFileException($"data directory {dataDirectory} is a file; restore into a new or empty directory");
        }
        if (Directory.Exists(dataDirectory) && Directory.EnumerateFileSystemEntries(dataDirectory).Any())
        {
            throw new SnapshotFileException($"data directory {dataDirectory} exists and is not empty; restore into a new or empty directory");
        }
        var members = MemberDirectory.ForNewCluster(options);
        var parent = Path.GetDirectoryName(dataDirectory) ?? throw new SnapshotFileException($"data directory {dataDirectory} has no parent directory");
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(dataDirectory)}.restoring-{Guid.NewGuid():N}");
        var fileSystem = new RealFileSystem();
        try
        {
            MemberRestore.CreateDataDirectory(
                fileSystem, staging, new StorageIdentity(members.ClusterId, members.SelfId),
                members.Members.Select(member => new ClusterMemberRecord(member.Id, member.PeerUrls)).ToArray(), contents.Keyspace);
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory); // empty, checked above; Move needs the name free
            }
            Directory.Move(staging, dataDirectory);
            fileSystem.SyncDirectory(parent);
        }
        catch
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
            throw;
        }
        return new RestoredMember(
            dataDirectory, options.Name, members.SelfId, members.ClusterId,
            options.InitialCluster.Zip(members.Members, (named, member) => (named.Name, member.Id)).ToArray(),
            contents.Header.Revision, contents.Header.KeyCount);
    }

    internal static BackupContents ReadFile(string path, BackupCheck check)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new SnapshotFileException($"cannot read {path}: {exception.Message}");
        }
        if (!BackupFile.TryRead(file, check, out var contents, out var problem))
        {
            throw new SnapshotFileException($"{path} refused: {problem}");
        }
        return contents!;
    }
}
