using System.Security.Cryptography;
using System.Text;
using Parley.Mvcc;
using Parley.Node;
using Parley.Server.Backup;

namespace Parley.Server.Tests;

/// <summary>
/// The snapshot file and Maintenance.Snapshot's framing without a server: etcd's chunking and SHA-256 trailer, the
/// 512-byte alignment etcdctl checks, and that a damaged, truncated or foreign file is refused with a reason.
/// </summary>
public class SnapshotFileTests
{
    private const ulong ClusterId = 0xc1;
    private const ulong MemberId = 0xa1;

    [Fact]
    public void Stream_SendsFull32KiBChunks_RemainingBytesCountingDown_ThenTheSha256OfEverythingBefore()
    {
        var (snapshot, _) = Keyspace(keys: 150, valueBytes: 700); // about 100 KiB: three full chunks and a short one
        var body = BackupFile.Build(snapshot, ClusterId, MemberId);
        var responses = BackupStream.Responses(body).ToList();

        var data = responses[..^1];
        var total = body.Sum(piece => (long)piece.Length);
        Assert.True(data.Count >= 4, $"{data.Count} data messages");
        Assert.All(data[..^1], response => Assert.Equal(BackupStream.ChunkBytes, response.Blob.Length));
        Assert.InRange(data[^1].Blob.Length, 1, BackupStream.ChunkBytes);
        long sent = 0;
        foreach (var response in data)
        {
            sent += response.Blob.Length;
            Assert.Equal((ulong)(total - sent), response.RemainingBytes);
        }
        Assert.Equal(total, sent);
        Assert.Equal(0UL, data[^1].RemainingBytes);

        var bytes = data.SelectMany(response => response.Blob.ToByteArray()).ToArray();
        Assert.Equal(Concat(body), bytes);
        Assert.Equal(0UL, responses[^1].RemainingBytes);
        Assert.Equal(SHA256.HashData(bytes), responses[^1].Blob.ToByteArray());
        Assert.Equal(0, bytes.Length % 512);
        Assert.Equal(32, (bytes.Length + 32) % 512); // what etcdctl snapshot save checks
        Assert.All(responses, response => Assert.Null(response.Header)); // 3.4 sends no header
    }

    [Fact]
    public void Stream_OfAWholeNumberOfChunks_SpanningPieces_EndsWithRemainingZero_ThenTheTrailer()
    {
        ReadOnlyMemory<byte>[] pieces = [Filled(1000, 1), Filled(30_000, 2), Filled(34_536, 3)];
        var responses = BackupStream.Responses(pieces).ToList();

        Assert.Equal(3, responses.Count);
        Assert.Equal([32_768UL, 0UL, 0UL], responses.Select(response => response.RemainingBytes));
        Assert.Equal([32_768, 32_768, 32], responses.Select(response => response.Blob.Length));
        var bytes = responses[..2].SelectMany(response => response.Blob.ToByteArray()).ToArray();
        Assert.Equal(Concat(pieces), bytes);
        Assert.Equal(SHA256.HashData(bytes), responses[2].Blob.ToByteArray());
    }

    [Fact]
    public void File_ReadsBack_ItsHeader_AndAKeyspaceEqualToTheOriginal()
    {
        var (snapshot, store) = Keyspace(keys: 20, valueBytes: 10);
        var file = FileOf(snapshot);

        Assert.True(BackupFile.TryRead(file, BackupCheck.RequireTrailer, out var contents, out var problem), problem);
        Assert.Equal(new BackupHeader(ClusterId, MemberId, 42, 7, store.Revision, store.CompactRevision, 20), contents!.Header);
        Assert.True(contents.HasTrailer);
        Assert.Equal(file.Length - 32, contents.BodyBytes);
        Assert.Equal(store.HashKV(0).Value!.Hash, contents.Store.HashKV(0).Value!.Hash);
        Assert.Equal(snapshot.Keyspace.ToArray(), contents.Keyspace.ToArray());
    }

    [Fact]
    public void File_WithAByteFlipped_AnywhereInItsBody_IsRefusedAsCorrupt_WithOrWithoutTheHashCheck()
    {
        var (snapshot, _) = Keyspace(keys: 20, valueBytes: 10);
        var file = FileOf(snapshot);
        var bodyBytes = file.Length - 32;
        int[] positions = [9, 20, 40, 50, 66, 75, 100, 128, 140, 128 + snapshot.Keyspace.Length - 1, bodyBytes - 10, bodyBytes - 1];
        foreach (var position in positions)
        {
            var damaged = Flipped(file, position);
            Assert.False(BackupFile.TryRead(damaged, BackupCheck.RequireTrailer, out _, out var problem), $"byte {position} flipped was accepted");
            Assert.Contains("SHA-256 trailer does not match", problem, StringComparison.Ordinal);
            Assert.False(BackupFile.TryRead(damaged, BackupCheck.SkipTrailer, out _, out problem), $"byte {position} flipped was accepted without the hash check");
            Assert.True(problem.Contains("corrupt", StringComparison.Ordinal) || problem.Contains("truncated", StringComparison.Ordinal) || problem.Contains("format version", StringComparison.Ordinal), problem);
        }
        Assert.False(BackupFile.TryRead(Flipped(file, 0), BackupCheck.SkipTrailer, out _, out var magic));
        Assert.Contains("not a Parley snapshot", magic, StringComparison.Ordinal);
    }

    [Fact]
    public void File_WithItsTrailerDamaged_IsRefused_UnlessTheHashCheckIsSkipped()
    {
        var (snapshot, _) = Keyspace(keys: 5, valueBytes: 10);
        var damaged = Flipped(FileOf(snapshot), FileOf(snapshot).Length - 3);

        Assert.False(BackupFile.TryRead(damaged, BackupCheck.RequireTrailer, out _, out var problem));
        Assert.Contains("SHA-256 trailer does not match its contents: the file is corrupt", problem, StringComparison.Ordinal);
        Assert.False(BackupFile.TryRead(damaged, BackupCheck.VerifyTrailerIfPresent, out _, out _));
        Assert.True(BackupFile.TryRead(damaged, BackupCheck.SkipTrailer, out _, out problem), problem);
    }

    [Fact]
    public void File_Truncated_IsRefused_AndWithoutItsTrailer_NeedsTheHashCheckSkipped()
    {
        var (snapshot, _) = Keyspace(keys: 40, valueBytes: 40);
        var file = FileOf(snapshot);
        var bodyBytes = file.Length - 32;
        foreach (var length in new[] { 0, 7, 127, 128, 511, 512, bodyBytes - 512, bodyBytes - 1, file.Length - 1 })
        {
            Assert.False(BackupFile.TryRead(file[..length], BackupCheck.SkipTrailer, out _, out var problem), $"{length} bytes accepted");
            Assert.NotEmpty(problem);
        }
        Assert.False(BackupFile.TryRead(file[..(bodyBytes - 512)], BackupCheck.SkipTrailer, out _, out var truncated));
        Assert.Contains("truncated", truncated, StringComparison.Ordinal);

        var withoutTrailer = file[..bodyBytes];
        Assert.False(BackupFile.TryRead(withoutTrailer, BackupCheck.RequireTrailer, out _, out var missing));
        Assert.Contains("no SHA-256 trailer", missing, StringComparison.Ordinal);
        Assert.True(BackupFile.TryRead(withoutTrailer, BackupCheck.SkipTrailer, out var contents, out var problemSkipped), problemSkipped);
        Assert.False(contents!.HasTrailer);
        Assert.True(BackupFile.TryRead(withoutTrailer, BackupCheck.VerifyTrailerIfPresent, out _, out _));
    }

    [Fact]
    public void EtcdsOwnBboltSnapshot_IsRecognisedAndRefused()
    {
        var bbolt = new byte[4096 * 4 + 32];
        BitConverter.TryWriteBytes(bbolt.AsSpan(16), 0xED0CDAEDu);
        Assert.False(BackupFile.TryRead(bbolt, BackupCheck.RequireTrailer, out _, out var problem));
        Assert.Contains("etcd (bbolt) snapshot", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void BodyBytes_IsAMultipleOf512_ThatHoldsHeaderKeyspaceAndChecksum()
    {
        foreach (var keyspace in new long[] { 0, 1, 379, 380, 381, 891, 892, 893, 100_000 })
        {
            var body = BackupFile.BodyBytes(keyspace);
            Assert.Equal(0, body % 512);
            Assert.InRange(body - (BackupFile.HeaderBytes + keyspace + 4), 0, 511);
        }
    }

    private static (KeyspaceSnapshot Snapshot, MvccStore Store) Keyspace(int keys, int valueBytes)
    {
        var store = new MvccStore();
        var lease = store.LeaseGrant(new LeaseGrantRequest { ID = 0x77, TTL = 60 }).Value!.ID;
        for (var i = 0; i < keys; i++)
        {
            var value = Encoding.UTF8.GetBytes(new string((char)('a' + i % 26), valueBytes));
            Assert.True(store.Put(new PutRequest { Key = Encoding.UTF8.GetBytes($"key/{i:D5}"), Value = value, Lease = i % 7 == 0 ? lease : 0 }).IsSuccess);
        }
        var bytes = store.Snapshot();
        return (new KeyspaceSnapshot(bytes, store.Revision, store.CompactRevision, store.KeyCount, 42, 7), store);
    }

    private static byte[] FileOf(KeyspaceSnapshot snapshot) =>
        BackupStream.Responses(BackupFile.Build(snapshot, ClusterId, MemberId)).SelectMany(response => response.Blob.ToByteArray()).ToArray();

    private static byte[] Concat(IEnumerable<ReadOnlyMemory<byte>> pieces) => pieces.SelectMany(piece => piece.ToArray()).ToArray();

    private static byte[] Filled(int length, byte value) => Enumerable.Repeat(value, length).ToArray();

    private static byte[] Flipped(byte[] file, int position)
    {
        var copy = file.ToArray();
        copy[position] ^= 0x5a;
        return copy;
    }
}
