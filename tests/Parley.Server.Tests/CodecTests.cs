using System.Buffers;
using Parley.Mvcc;
using Parley.Node;
using Parley.Raft;
using Parley.Server.Peer;

namespace Parley.Server.Tests;

public class CodecTests
{
    [Fact]
    public void RaftMessage_RoundTrips_WithEntriesAndSnapshot()
    {
        var message = new Message
        {
            Type = MessageType.Append, From = 1, To = 2, Term = 7, LogTerm = 6, Index = 41, Commit = 40,
            Entries = [new Entry(7, 42, EntryType.Normal, new byte[] { 1, 2, 3 }), new Entry(7, 43, EntryType.ConfigChange, new byte[] { 9 })],
            Reject = true, RejectHint = 5, Context = ulong.MaxValue,
            Snapshot = new Snapshot(new SnapshotMetadata(40, 6, new ConfigState([1, 2, 3], [4])), new byte[] { 5, 6 }),
        };
        var buffer = new ArrayBufferWriter<byte>();
        PeerCodec.WriteMessage(buffer, message);
        var decoded = PeerCodec.ReadMessage(buffer.WrittenSpan);
        Assert.Equal(message.ToString(), decoded.ToString());
        Assert.Equal(message.Entries[0].Data.ToArray(), decoded.Entries[0].Data.ToArray());
        Assert.Equal(EntryType.ConfigChange, decoded.Entries[1].Type);
        Assert.Equal([1UL, 2, 3], decoded.Snapshot!.Metadata.Config.Voters);
        Assert.Equal([4UL], decoded.Snapshot.Metadata.Config.Learners);
        Assert.Equal(new byte[] { 5, 6 }, decoded.Snapshot.Data.ToArray());
        Assert.Equal(ulong.MaxValue, decoded.Context);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RaftMessage_CommitOnlyMark_RoundTrips(bool commitOnly)
    {
        var message = new Message { Type = MessageType.Append, From = 1, To = 2, Term = 3, LogTerm = 3, Index = 9, Commit = 9, CommitOnly = commitOnly };
        var buffer = new ArrayBufferWriter<byte>();
        PeerCodec.WriteMessage(buffer, message);
        var decoded = PeerCodec.ReadMessage(buffer.WrittenSpan);
        Assert.Equal((commitOnly, false), (decoded.CommitOnly, decoded.Reject));
        Assert.Equal(message.ToString(), decoded.ToString());
    }

    [Fact]
    public void RaftMessage_Truncated_IsRejected_NotMisread()
    {
        var buffer = new ArrayBufferWriter<byte>();
        PeerCodec.WriteMessage(buffer, new Message { Type = MessageType.Append, From = 1, To = 2, Entries = [new Entry(1, 1, EntryType.Normal, new byte[100])] });
        for (var length = 0; length < buffer.WrittenCount; length += 7)
        {
            var cut = buffer.WrittenMemory[..length].ToArray();
            Assert.Throws<FormatException>(() => PeerCodec.ReadMessage(cut));
        }
    }

    [Fact]
    public void Proposal_RoundTrips_NestedTxn()
    {
        var txn = new TxnRequest
        {
            Compare = [new Compare { Result = CompareResult.NotEqual, Target = CompareTarget.Value, Key = "k"u8.ToArray(), Value = "v"u8.ToArray(), RangeEnd = [0] }],
            Success =
            [
                RequestOp.Put(new PutRequest { Key = "a"u8.ToArray(), Value = "1"u8.ToArray(), Lease = -3, PrevKv = true }),
                RequestOp.Range(new RangeRequest { Key = "a"u8.ToArray(), Limit = 5, SortOrder = SortOrder.Descend, SortTarget = SortTarget.Mod, KeysOnly = true, MaxCreateRevision = 9 }),
                RequestOp.Txn(new TxnRequest { Failure = [RequestOp.DeleteRange(new DeleteRangeRequest { Key = "z"u8.ToArray(), PrevKv = true })] }),
                new RequestOp(),
            ],
        };
        var proposal = new Proposal(11, ulong.MaxValue - 1, WriteCommand.Txn(txn));
        var decoded = Proposal.Decode(proposal.Encode());
        Assert.Equal(11UL, decoded.Origin);
        Assert.Equal(ulong.MaxValue - 1, decoded.ProposalId);
        // Applying both to fresh stores gives the same outcome and the same state.
        var first = new MvccStore();
        var second = new MvccStore();
        first.Apply(WriteCommand.Put(new PutRequest { Key = "k"u8.ToArray(), Value = "x"u8.ToArray() }));
        second.Apply(WriteCommand.Put(new PutRequest { Key = "k"u8.ToArray(), Value = "x"u8.ToArray() }));
        var expected = first.Apply(proposal.Command);
        var actual = second.Apply(decoded.Command);
        Assert.Equal(expected.Error, actual.Error);
        Assert.Equal(first.Snapshot(), second.Snapshot());
    }

    [Fact]
    public void Proposal_Garbage_IsFormatException()
    {
        var random = new Random(5);
        for (var i = 0; i < 500; i++)
        {
            var bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            if (bytes.Length > 0)
            {
                bytes[0] = 1;
            }
            try
            {
                Proposal.Decode(bytes);
            }
            catch (FormatException)
            {
                // expected for nearly all inputs; anything else would crash every member at apply
            }
        }
    }

    [Fact]
    public void Proposal_Put_EncodesTheWalFormat_ByteForByte()
    {
        // Entries already in WALs and members of older builds read this layout: it may not move.
        var put = new PutRequest { Key = "k"u8.ToArray(), Value = new byte[130], Lease = -1, PrevKv = true, IgnoreLease = true };
        var encoded = new Proposal(0x0102030405060708, 9, WriteCommand.Put(put).WithCaller(new AuthCaller("é", 64))).Encode();
        byte[] expected =
        [
            2, 8, 7, 6, 5, 4, 3, 2, 1, 9, 0, 0, 0, 0, 0, 0, 0, (byte)WriteCommandKind.Put,
            2, 0xC3, 0xA9, // user "é" as UTF-8
            0x80, 0x01, // revision 64, zig-zag 128
            1, (byte)'k', 0x82, 0x01, .. new byte[130], // key, value length 130
            1, // lease -1, zig-zag 1
            1 | 4, // prev_kv, ignore_lease
        ];
        Assert.Equal(expected, encoded);
    }

    [Fact]
    public void Proposal_Puts_RoundTrip_AcrossVarintBoundaries()
    {
        int[] lengths = [0, 1, 127, 128, 300, 16_383, 16_384];
        long[] leases = [0, -1, 63, 64, -65, long.MaxValue, long.MinValue];
        AuthCaller[] callers = [AuthCaller.None, new("root", 1), new("üser\uD800", long.MaxValue)];
        var index = 0;
        foreach (var keyLength in lengths)
        {
            foreach (var valueLength in lengths)
            {
                var lease = leases[index % leases.Length];
                var caller = callers[index % callers.Length];
                index++;
                var put = new PutRequest { Key = Filled(keyLength, 1), Value = Filled(valueLength, 2), Lease = lease, IgnoreValue = index % 2 == 0 };
                var decoded = Proposal.Decode(new Proposal(3, (ulong)index, WriteCommand.Put(put).WithCaller(caller)).Encode());
                var decodedPut = Assert.IsType<PutRequest>(decoded.Command.Request);
                Assert.Equal(put.Key, decodedPut.Key);
                Assert.Equal(put.Value, decodedPut.Value);
                Assert.Equal(lease, decodedPut.Lease);
                Assert.Equal(put.IgnoreValue, decodedPut.IgnoreValue);
                Assert.Equal((ulong)index, decoded.ProposalId);
                // A lone surrogate goes through UTF-8 as U+FFFD, as Encoding.UTF8.GetBytes always gave it.
                var expectedCaller = caller.IsNone ? AuthCaller.None : caller with { User = caller.User.Replace('\uD800', '\uFFFD') };
                Assert.Equal(expectedCaller, decoded.Command.Caller);
            }
        }
    }

    [Fact]
    public void PeerFrames_WrittenBackToBack_ReadBackWithTheirPayloads()
    {
        var buffer = new ArrayBufferWriter<byte>();
        byte[][] proposals = [Filled(3, 7), [], Filled(70_000, 9)];
        PeerCodec.WriteFrame(buffer, PeerFrameType.Ping, 42L, PeerCodec.WriteProbe);
        PeerCodec.WriteFrame(buffer, PeerFrameType.Forward, proposals, PeerCodec.WriteForward);
        PeerCodec.WriteFrame(buffer, PeerFrameType.Hello, output => PeerCodec.WriteHello(output, 0xC1, 5, "m5", ["http://127.0.0.1:2379"], ["http://127.0.0.1:2380", "http://10.0.0.5:2380"]));
        var sequence = new ReadOnlySequence<byte>(buffer.WrittenMemory);
        Assert.True(PeerTransport.TryReadFrame(ref sequence, out var type, out var payload));
        Assert.Equal(PeerFrameType.Ping, type);
        Assert.Equal(42L, PeerCodec.ReadProbe(payload.ToArray()));
        Assert.True(PeerTransport.TryReadFrame(ref sequence, out type, out payload));
        Assert.Equal(PeerFrameType.Forward, type);
        var forwarded = PeerCodec.ReadForward(payload.ToArray());
        Assert.Equal(proposals.Length, forwarded.Length);
        for (var i = 0; i < proposals.Length; i++)
        {
            Assert.Equal(proposals[i], forwarded[i]);
        }
        Assert.True(PeerTransport.TryReadFrame(ref sequence, out type, out payload));
        Assert.Equal(PeerFrameType.Hello, type);
        var hello = PeerCodec.ReadHello(payload.ToArray());
        Assert.Equal((0xC1UL, 5UL, "m5"), (hello.ClusterId, hello.MemberId, hello.Name));
        Assert.Equal(["http://127.0.0.1:2379"], hello.ClientUrls);
        Assert.Equal(["http://127.0.0.1:2380", "http://10.0.0.5:2380"], hello.PeerUrls);
        Assert.True(sequence.IsEmpty);
    }

    [Fact]
    public async Task InboundBuffer_ReadsFramesSentInOddPieces_AndGrowsForOneLargerThanItself()
    {
        // What a peer connection's reader thread does: blocking receives into one array, frames taken off its front.
        var frames = new ArrayBufferWriter<byte>();
        var sent = new List<byte[][]>();
        for (var i = 0; i < 40; i++)
        {
            byte[][] proposals = [Filled(1 + i * 37 % 500, (byte)i), Filled(i == 17 ? 300_000 : 11, (byte)(i + 1))];
            sent.Add(proposals);
            PeerCodec.WriteFrame(frames, PeerFrameType.Forward, proposals, PeerCodec.WriteForward);
        }
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        using var sender = new System.Net.Sockets.TcpClient();
        sender.Connect((System.Net.IPEndPoint)listener.LocalEndpoint);
        using var receiver = listener.AcceptSocket();
        var writing = Task.Run(() =>
        {
            var bytes = frames.WrittenMemory;
            var random = new Random(5);
            while (!bytes.IsEmpty)
            {
                var piece = Math.Min(bytes.Length, 1 + random.Next(9_000));
                sender.Client.Send(bytes.Span[..piece]);
                bytes = bytes[piece..];
            }
            sender.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        });
        var input = new InboundBuffer(4096);
        var received = new List<byte[][]>();
        while (input.Receive(receiver))
        {
            var unread = input.Unread;
            var before = unread.Length;
            while (PeerTransport.TryReadFrame(ref unread, out var type, out var payload))
            {
                Assert.Equal(PeerFrameType.Forward, type);
                Assert.True(payload.IsSingleSegment);
                received.Add(PeerCodec.ReadForward(payload.FirstSpan));
            }
            input.Consume(before - unread.Length);
        }
        await writing;
        Assert.True(input.Unread.IsEmpty);
        Assert.Equal(sent.Count, received.Count);
        for (var i = 0; i < sent.Count; i++)
        {
            Assert.Equal(sent[i][0], received[i][0]);
            Assert.Equal(sent[i][1], received[i][1]);
        }
    }

    private static byte[] Filled(int length, byte seed)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)(seed + i);
        }
        return bytes;
    }
}
