using System.Buffers.Binary;

namespace Parley.Storage;

/// <summary>
/// <c>member.parley</c> at the top of a data directory: format version, cluster and member, checksummed. Written once
/// (temporary name, sync, rename, directory sync) before anything else, checked first at every start.
/// Layout: magic u64, version u32, zero u32, cluster u64, member u64, crc32c u32 of the preceding bytes, zero u32.
/// </summary>
internal static class IdentityFile
{
    public const int Bytes = 40;

    public static void Write(IFileSystem fileSystem, string dataDirectory, StorageIdentity identity, StorageOptions options)
    {
        var content = new byte[Bytes];
        BinaryPrimitives.WriteUInt64LittleEndian(content, StorageFormat.IdentityMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(content.AsSpan(8), StorageFormat.Version);
        BinaryPrimitives.WriteUInt64LittleEndian(content.AsSpan(16), identity.ClusterId);
        BinaryPrimitives.WriteUInt64LittleEndian(content.AsSpan(24), identity.MemberId);
        BinaryPrimitives.WriteUInt32LittleEndian(content.AsSpan(32), Crc32C.Compute(content.AsSpan(0, 32)));
        DurableFile.WriteAtomically(fileSystem, Path.Combine(dataDirectory, StorageFormat.IdentityFileName), content, options);
    }

    /// <summary>Checks the file against the identity the process was started with; throws a message the operator can act on.</summary>
    public static void Verify(IFileSystem fileSystem, string dataDirectory, StorageIdentity identity)
    {
        var path = Path.Combine(dataDirectory, StorageFormat.IdentityFileName);
        var found = Read(fileSystem, path);
        if (found != identity)
        {
            throw new StorageRefusedException(
                $"data directory {dataDirectory} belongs to {found}, but this process was started as {identity}. " +
                "Point --data-dir at this member's own directory; to join this member afresh, give it a new, empty directory.");
        }
    }

    public static StorageIdentity Read(IFileSystem fileSystem, string path)
    {
        var content = new byte[Bytes];
        int read;
        using (var file = fileSystem.OpenFile(path, writable: false))
        {
            read = file.Read(0, content);
        }
        if (read < 16 || BinaryPrimitives.ReadUInt64LittleEndian(content) != StorageFormat.IdentityMagic)
        {
            throw new StorageRefusedException($"{path} is not a Parley member file; is this a Parley data directory?");
        }
        var version = BinaryPrimitives.ReadUInt32LittleEndian(content.AsSpan(8));
        if (version != StorageFormat.Version)
        {
            throw new StorageRefusedException(
                $"data directory {Path.GetDirectoryName(path)} has storage format version {version}; this build reads only version {StorageFormat.Version}. " +
                "Run a Parley release that reads that version (no automatic migration exists), or give this member a new, empty directory.");
        }
        if (read != Bytes || BinaryPrimitives.ReadUInt32LittleEndian(content.AsSpan(32)) != Crc32C.Compute(content.AsSpan(0, 32)))
        {
            throw new StorageCorruptionException(path, 0, "the member identity file fails its checksum");
        }
        return new StorageIdentity(BinaryPrimitives.ReadUInt64LittleEndian(content.AsSpan(16)), BinaryPrimitives.ReadUInt64LittleEndian(content.AsSpan(24)));
    }
}
