using System.Buffers;
using Parley.Raft;
using Parley.Server.Peer;

namespace Parley.Server.Tests;

/// <summary>Raft messages written in place into a link's batch buffer, wherever in it they start.</summary>
public class PeerCodecTests
{
    /// <summary>
    /// An <see cref="ArrayBufferWriter{T}"/> hands out exactly its free space when that is enough for the size asked
    /// for. The message header once asked for 62 bytes and wrote 66: a batch buffer with 62 to 65 bytes left failed the
    /// link's writer (found by the torture crash mode: the link died and the cluster stalled).
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(61)]
    [InlineData(62)]
    [InlineData(63)]
    [InlineData(65)]
    [InlineData(66)]
    [InlineData(67)]
    [InlineData(200)]
    public void AMessage_RoundTrips_WhateverSpaceIsLeftInTheBuffer(int freeBytes)
    {
        const int capacity = 512;
        var message = new Message
        {
            Type = MessageType.Append, From = 1, To = 2, Term = 9, LogTerm = 8, Index = 41, Commit = 40, RejectHint = 3, Context = 77,
            Entries = [new Entry(9, 42, EntryType.Normal, new byte[] { 1, 2, 3 }), new Entry(9, 43, EntryType.Normal, new byte[300])],
        };
        var buffer = new ArrayBufferWriter<byte>(capacity);
        var filler = capacity - freeBytes;
        buffer.GetSpan(Math.Max(1, filler));
        buffer.Advance(filler);
        Assert.Equal(freeBytes, buffer.FreeCapacity);

        PeerCodec.WriteMessage(buffer, message);

        var read = PeerCodec.ReadMessage(buffer.WrittenSpan[filler..]);
        Assert.Equal((message.Type, message.From, message.To, message.Term, message.LogTerm, message.Index, message.Commit, message.RejectHint, message.Context),
            (read.Type, read.From, read.To, read.Term, read.LogTerm, read.Index, read.Commit, read.RejectHint, read.Context));
        Assert.Equal(message.Entries.Select(e => (e.Term, e.Index, e.Type, e.Data.ToArray().Length)), read.Entries.Select(e => (e.Term, e.Index, e.Type, e.Data.ToArray().Length)));
        Assert.True(message.Entries[1].Data.Span.SequenceEqual(read.Entries[1].Data.Span));
    }
}
