using Parley.Mvcc;

namespace Parley.Server.Backup;

/// <summary>A verified snapshot file: its header, the keyspace bytes, the store they decode to, and the body's size.</summary>
/// <param name="BodyBytes">The file's size without the SHA-256 trailer (what etcdctl reports as the total size).</param>
/// <param name="HasTrailer">Whether the file ends with the SHA-256 trailer (checked unless skipped).</param>
internal sealed record BackupContents(BackupHeader Header, ReadOnlyMemory<byte> Keyspace, MvccStore Store, long BodyBytes, bool HasTrailer);
