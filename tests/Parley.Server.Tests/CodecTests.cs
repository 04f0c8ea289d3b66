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
}
