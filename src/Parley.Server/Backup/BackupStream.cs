using System.Security.Cryptography;
using Google.Protobuf;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Backup;

/// <summary>
/// Maintenance.Snapshot's framing, as etcd sends it: the body in 32 KiB messages (the last may be shorter), each with
/// <c>remaining_bytes</c> = what is still to come after it, then one message whose blob is the SHA-256 of every byte
/// before it, with <c>remaining_bytes</c> 0. etcdctl writes the blobs one after the other, trailer included.
/// </summary>
internal static class BackupStream
{
    public const int ChunkBytes = 32 * 1024;

    /// <summary>The messages for a body given in pieces (see <see cref="BackupFile.Build"/>); chunks span piece boundaries.</summary>
    public static IEnumerable<EtcdPb.SnapshotResponse> Responses(IReadOnlyList<ReadOnlyMemory<byte>> body)
    {
        long total = 0;
        foreach (var piece in body)
        {
            total += piece.Length;
        }
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = new byte[ChunkBytes];
        var filled = 0;
        long sent = 0;
        foreach (var piece in body)
        {
            var rest = piece;
            while (!rest.IsEmpty)
            {
                var take = Math.Min(ChunkBytes - filled, rest.Length);
                rest.Span[..take].CopyTo(chunk.AsSpan(filled));
                filled += take;
                rest = rest[take..];
                if (filled == ChunkBytes)
                {
                    sent += filled;
                    yield return Chunk(sha, chunk, filled, total - sent);
                    filled = 0;
                }
            }
        }
        if (filled > 0)
        {
            sent += filled;
            yield return Chunk(sha, chunk, filled, total - sent);
        }
        yield return new EtcdPb.SnapshotResponse { RemainingBytes = 0, Blob = ByteString.CopyFrom(sha.GetHashAndReset()) };
    }

    private static EtcdPb.SnapshotResponse Chunk(IncrementalHash sha, byte[] chunk, int length, long remaining)
    {
        sha.AppendData(chunk, 0, length);
        return new EtcdPb.SnapshotResponse { RemainingBytes = (ulong)remaining, Blob = ByteString.CopyFrom(chunk, 0, length) };
    }
}
