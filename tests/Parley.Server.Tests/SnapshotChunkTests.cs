using System.Buffers;
using Parley.Raft;
using Parley.Server.Peer;
using Parley.Storage;

namespace Parley.Server.Tests;

/// <summary>Snapshots between peers travel in 1 MiB chunk frames followed by their Raft message.</summary>
public class SnapshotChunkTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(PeerCodec.SnapshotChunkBytes)]
    [InlineData(2 * PeerCodec.SnapshotChunkBytes + 12_345)]
    public async Task SnapshotMessage_IsChunked_AndReassembledExactly(int size)
    {
        var data = new byte[size];
        new Random(size).NextBytes(data);
        var message = new Message
        {
            Type = MessageType.InstallSnapshot, From = 1, To = 2, Term = 7,
            Snapshot = new Snapshot(new SnapshotMetadata(900, 6, new ConfigState([1, 2, 3], [4])), data),
        };
        var wire = new MemoryStream();
        var buffer = new ArrayBufferWriter<byte>();
        var written = await PeerLink.WriteSnapshotAsync(wire, buffer, message, CancellationToken.None);
        wire.Write(buffer.WrittenSpan); // the message frame, as the link's next socket write sends it

        var frames = new ReadOnlySequence<byte>(wire.ToArray());
        var chunks = new SnapshotAssembler();
        var chunkFrames = 0;
        Message? received = null;
        while (PeerTransport.TryReadFrame(ref frames, out var type, out var payload))
        {
            if (type == PeerFrameType.SnapshotChunk)
            {
                chunkFrames++;
                Assert.True(payload.Length <= PeerCodec.SnapshotChunkBytes + SnapshotAssembler.ChunkHeaderBytes);
                chunks.Accept(payload);
            }
            else
            {
                Assert.Equal(PeerFrameType.RaftMessage, type);
                received = PeerCodec.ReadMessage(payload.ToArray(), chunks.Take);
            }
        }
        Assert.Equal(0, frames.Length);
        Assert.Equal((size + PeerCodec.SnapshotChunkBytes - 1) / PeerCodec.SnapshotChunkBytes, chunkFrames);
        Assert.Equal(wire.Length - buffer.WrittenCount, written);
        Assert.NotNull(received);
        Assert.Equal(message.Snapshot.Metadata.Index, received.Snapshot!.Metadata.Index);
        Assert.Equal(message.Snapshot.Metadata.Config, received.Snapshot.Metadata.Config);
        Assert.True(data.AsSpan().SequenceEqual(received.Snapshot.Data.Span));
    }

    [Fact]
    public void ChunksOutOfOrder_OrAMessageWithoutThem_CloseTheConnection()
    {
        var assembler = new SnapshotAssembler();
        Assert.Throws<FormatException>(() => assembler.Accept(Chunk(total: 10, offset: 4, length: 2)));
        assembler.Accept(Chunk(total: 10, offset: 0, length: 4));
        Assert.Throws<FormatException>(() => assembler.Accept(Chunk(total: 10, offset: 6, length: 2)));
        Assert.Throws<FormatException>(() => assembler.Take()); // incomplete
        Assert.Throws<FormatException>(() => assembler.Accept(Chunk(total: (long)Array.MaxLength + 1, offset: 0, length: 1)));

        var message = new Message { Type = MessageType.InstallSnapshot, From = 1, To = 2, Snapshot = new Snapshot(new SnapshotMetadata(5, 1, ConfigState.Empty), new byte[3]) };
        var frame = new ArrayBufferWriter<byte>();
        PeerCodec.WriteMessage(frame, message, snapshotDataInChunks: true);
        Assert.Throws<FormatException>(() => PeerCodec.ReadMessage(frame.WrittenSpan));
        Assert.Throws<FormatException>(() => PeerCodec.ReadMessage(frame.WrittenSpan, new SnapshotAssembler().Take));
    }

    private static ReadOnlySequence<byte> Chunk(long total, long offset, int length)
    {
        var output = new ArrayBufferWriter<byte>();
        PeerCodec.WriteSnapshotChunkHeader(output, total, offset, length);
        output.Write(new byte[length]);
        return new ReadOnlySequence<byte>(output.WrittenMemory[PeerCodec.FrameHeaderBytes..]);
    }

    [Fact]
    public void ASnapshotPrunedWhileItWaitedToBeSent_IsUnreadable_AndTheNewestIsNot()
    {
        var fileSystem = new SimulatedFileSystem(new Random(5));
        using var storage = MemberStorage.Open(fileSystem, "/data", new StorageIdentity(7, 1), new StorageOptions { SnapshotsRetained = 1 });
        Snapshot At(ulong index) => new(new SnapshotMetadata(index, 1, new ConfigState([1, 2], [])), new byte[] { (byte)index, 2, 3 });
        storage.SaveSnapshot(At(10));
        var queued = storage.FileBacked(At(10)); // what an InstallSnapshot message carries: not read yet

        storage.SaveSnapshot(At(20)); // a newer snapshot; the one before it is pruned

        Assert.False(PeerLink.IsReadable(queued));
        var newest = storage.FileBacked(At(20));
        Assert.True(PeerLink.IsReadable(newest));
        Assert.Equal(new byte[] { 20, 2, 3 }, newest.Data.ToArray());
        Assert.True(PeerLink.IsReadable(At(30))); // data in memory
    }
}
