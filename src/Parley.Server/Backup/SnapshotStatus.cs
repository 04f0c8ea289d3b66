namespace Parley.Server.Backup;

/// <summary>
/// What <c>parley snapshot status</c> prints, as <c>etcdctl snapshot status</c> does: a hash of the keyspace, its
/// revision, its keys and the file's size. The hash is the keyspace's HashKV at its revision, so it equals what
/// <c>etcdctl endpoint hashkv</c> printed on the source cluster at that revision, and on a cluster restored from it.
/// </summary>
/// <param name="TotalKeys">Live keys at the revision.</param>
/// <param name="TotalBytes">The file's size without the SHA-256 trailer (etcdctl reports its database's size the same way).</param>
public sealed record SnapshotStatus(uint Hash, long Revision, long TotalKeys, long TotalBytes)
{
    /// <summary>Reads and verifies the file (its trailer too, if it has one); throws <see cref="SnapshotFileException"/>.</summary>
    public static SnapshotStatus Read(string path)
    {
        var contents = SnapshotRestore.ReadFile(path, BackupCheck.VerifyTrailerIfPresent);
        var hash = contents.Store.HashKV(0).Value!.Hash;
        return new SnapshotStatus(hash, contents.Header.Revision, contents.Header.KeyCount, contents.BodyBytes);
    }
}
