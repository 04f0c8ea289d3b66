using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Parley.Node;
using Parley.Raft;

namespace Parley.Server.Peer;

/// <summary>
/// The peer wire: frames of <c>[length u32 LE][type u8][payload]</c> (length counts type and payload). Raft messages
/// are encoded field by field, little-endian, entries and snapshot inline. Decoding validates every length.
/// </summary>
internal static class PeerCodec
{
    public const int FrameHeaderBytes = 5;

    /// <summary>A frame larger than this closes the connection (a snapshot of a 2 GiB quota still fits).</summary>
    public const int FrameBytesMax = int.MaxValue - 64;

    public static void WriteFrame(ArrayBufferWriter<byte> output, PeerFrameType type, Action<IBufferWriter<byte>> payload) =>
        WriteFrame(output, type, payload, static (body, write) => write(body));

    /// <summary>
    /// Appends one frame: the payload is written in place after a header whose length is filled in afterwards (no
    /// buffer of its own, no copy). <paramref name="state"/> lets a static <paramref name="payload"/> avoid a closure.
    /// </summary>
    public static void WriteFrame<TState>(ArrayBufferWriter<byte> output, PeerFrameType type, TState state, Action<IBufferWriter<byte>, TState> payload)
    {
        var start = output.WrittenCount;
        output.GetSpan(FrameHeaderBytes)[4] = (byte)type;
        output.Advance(FrameHeaderBytes);
        payload(output, state);
        var length = (long)output.WrittenCount - start - 4;
        if (length > FrameBytesMax)
        {
            throw new InvalidOperationException($"peer frame of {length} bytes exceeds the limit");
        }
        var header = MemoryMarshal.AsMemory(output.WrittenMemory).Span[start..];
        BinaryPrimitives.WriteInt32LittleEndian(header, (int)length);
    }

    /// <summary>
    /// Who is calling: cluster id (a member refuses callers from another cluster, as etcd does), member id, name, client
    /// URLs, and its advertised peer URLs, so that a member that does not know the caller yet (it is behind: the caller
    /// joined while it was down) can still answer it (<see cref="PeerTransport"/>'s remote links).
    /// </summary>
    public static void WriteHello(IBufferWriter<byte> output, ulong clusterId, ulong memberId, string name, IReadOnlyList<string> clientUrls, IReadOnlyList<string> peerUrls)
    {
        WriteU64(output, clusterId);
        WriteU64(output, memberId);
        WriteString(output, name);
        WriteStrings(output, clientUrls);
        WriteStrings(output, peerUrls);
    }

    public static PeerHello ReadHello(ReadOnlySpan<byte> payload)
    {
        var reader = new SpanReader(payload);
        var clusterId = reader.U64();
        var id = reader.U64();
        var name = reader.String();
        var clientUrls = ReadStrings(ref reader);
        var peerUrls = ReadStrings(ref reader);
        return new PeerHello(clusterId, id, name, clientUrls, peerUrls);
    }

    private static void WriteStrings(IBufferWriter<byte> output, IReadOnlyList<string> values)
    {
        WriteU32(output, (uint)values.Count);
        foreach (var value in values)
        {
            WriteString(output, value);
        }
    }

    private static string[] ReadStrings(ref SpanReader reader)
    {
        var values = new string[reader.Count(4)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reader.String();
        }
        return values;
    }

    /// <summary>A joining member asks with its peer URLs; the answer is the cluster id and the membership.</summary>
    public static void WriteJoinQuery(IBufferWriter<byte> output, IReadOnlyList<string> peerUrls) => WriteStrings(output, peerUrls);

    public static string[] ReadJoinQuery(ReadOnlySpan<byte> payload)
    {
        var reader = new SpanReader(payload);
        return ReadStrings(ref reader);
    }

    public static void WriteJoinAnswer(IBufferWriter<byte> output, ulong clusterId, IReadOnlyList<MemberDirectory.MemberInfo> members)
    {
        WriteU64(output, clusterId);
        WriteU32(output, (uint)members.Count);
        foreach (var member in members)
        {
            WriteU64(output, member.Id);
            output.GetSpan(1)[0] = member.IsLearner ? (byte)1 : (byte)0;
            output.Advance(1);
            WriteU32(output, (uint)member.PeerUrls.Length);
            foreach (var url in member.PeerUrls)
            {
                WriteString(output, url);
            }
        }
    }

    public static (ulong ClusterId, MemberDirectory.MemberInfo[] Members) ReadJoinAnswer(ReadOnlySpan<byte> payload)
    {
        var reader = new SpanReader(payload);
        var clusterId = reader.U64();
        var members = new MemberDirectory.MemberInfo[reader.Count(8)];
        for (var i = 0; i < members.Length; i++)
        {
            var id = reader.U64();
            var isLearner = reader.Byte() != 0;
            var urls = new string[reader.Count(4)];
            for (var u = 0; u < urls.Length; u++)
            {
                urls[u] = reader.String();
            }
            members[i] = new MemberDirectory.MemberInfo(id, urls, isLearner);
        }
        return (clusterId, members);
    }

    public static void WriteProbe(IBufferWriter<byte> output, long timestamp) => WriteU64(output, (ulong)timestamp);

    public static long ReadProbe(ReadOnlySpan<byte> payload)
    {
        var reader = new SpanReader(payload);
        var timestamp = (long)reader.U64();
        if (!reader.IsAtEnd)
        {
            throw new FormatException("malformed probe");
        }
        return timestamp;
    }

    public static void WriteForward(IBufferWriter<byte> output, IReadOnlyList<byte[]> proposals)
    {
        WriteU32(output, (uint)proposals.Count);
        foreach (var proposal in proposals)
        {
            WriteBytes(output, proposal);
        }
    }

    public static byte[][] ReadForward(ReadOnlySpan<byte> payload)
    {
        var reader = new SpanReader(payload);
        var proposals = new byte[reader.Count(4)][];
        for (var i = 0; i < proposals.Length; i++)
        {
            proposals[i] = reader.Bytes().ToArray();
        }
        return proposals;
    }

    public static void WriteForwardAnswer(IBufferWriter<byte> output, ForwardAnswer answer)
    {
        output.GetSpan(1)[0] = (byte)answer.Verdict;
        output.Advance(1);
        WriteU64(output, answer.Term);
        WriteIds(output, answer.ProposalIds);
        WriteIds(output, answer.Indexes);
    }

    public static ForwardAnswer ReadForwardAnswer(ReadOnlySpan<byte> payload)
    {
        var reader = new SpanReader(payload);
        var verdict = (ForwardVerdict)reader.Byte();
        var term = reader.U64();
        var ids = reader.Ids();
        var indexes = reader.Ids();
        if (!reader.IsAtEnd || !Enum.IsDefined(verdict) || indexes.Length != (verdict == ForwardVerdict.Appended ? ids.Length : 0))
        {
            throw new FormatException("malformed forward answer");
        }
        return new ForwardAnswer(verdict, term, ids, indexes);
    }

    public static void WriteLeaseQuery(IBufferWriter<byte> output, LeaseQuery query)
    {
        WriteU64(output, query.RequestId);
        output.GetSpan(1)[0] = (byte)query.Kind;
        output.Advance(1);
        WriteU64(output, (ulong)query.LeaseId);
        output.GetSpan(1)[0] = query.WithKeys ? (byte)1 : (byte)0;
        output.Advance(1);
    }

    public static LeaseQuery ReadLeaseQuery(ReadOnlySpan<byte> payload)
    {
        var reader = new SpanReader(payload);
        var requestId = reader.U64();
        var kind = (LeaseQueryKind)reader.Byte();
        var leaseId = (long)reader.U64();
        var withKeys = reader.Byte() != 0;
        if (!reader.IsAtEnd || !Enum.IsDefined(kind))
        {
            throw new FormatException("malformed lease query");
        }
        return new LeaseQuery(requestId, kind, leaseId, withKeys);
    }

    public static void WriteLeaseAnswer(IBufferWriter<byte> output, LeaseAnswer answer)
    {
        WriteU64(output, answer.RequestId);
        output.GetSpan(1)[0] = (byte)answer.Error;
        output.Advance(1);
        WriteU64(output, (ulong)answer.LeaseId);
        WriteU64(output, (ulong)answer.TtlSeconds);
        WriteU64(output, (ulong)answer.GrantedTtlSeconds);
        WriteU64(output, (ulong)answer.Revision);
        WriteU64(output, answer.RaftTerm);
        WriteU32(output, (uint)answer.Keys.Count);
        foreach (var key in answer.Keys)
        {
            WriteBytes(output, key);
        }
    }

    public static LeaseAnswer ReadLeaseAnswer(ReadOnlySpan<byte> payload)
    {
        var reader = new SpanReader(payload);
        var requestId = reader.U64();
        var error = (NodeError)reader.Byte();
        var leaseId = (long)reader.U64();
        var ttl = (long)reader.U64();
        var granted = (long)reader.U64();
        var revision = (long)reader.U64();
        var term = reader.U64();
        var keys = new byte[reader.Count(4)][];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = reader.Bytes().ToArray();
        }
        if (!reader.IsAtEnd || !Enum.IsDefined(error))
        {
            throw new FormatException("malformed lease answer");
        }
        return new LeaseAnswer(requestId, error, leaseId, ttl, granted, keys, revision, term);
    }

    /// <summary>Bytes of snapshot data per <see cref="PeerFrameType.SnapshotChunk"/> frame.</summary>
    public const int SnapshotChunkBytes = 1 << 20;

    // type, flags, then eight u64 fields (from, to, term, log term, index, commit, reject hint, context)
    private const int MessageHeaderBytes = 2 + 8 * 8;

    /// <param name="output">where the frame payload goes</param>
    /// <param name="message">the Raft message</param>
    /// <param name="snapshotDataInChunks">the snapshot's data was sent ahead in chunk frames, not inline</param>
    public static void WriteMessage(IBufferWriter<byte> output, Message message, bool snapshotDataInChunks = false)
    {
        var span = output.GetSpan(MessageHeaderBytes);
        span[0] = (byte)message.Type;
        span[1] = (byte)((message.Reject ? 1 : 0) | (message.Snapshot is null ? 0 : 2) | (snapshotDataInChunks ? 4 : 0) |
                         (message.CommitOnly ? 8 : 0));
        BinaryPrimitives.WriteUInt64LittleEndian(span[2..], message.From);
        BinaryPrimitives.WriteUInt64LittleEndian(span[10..], message.To);
        BinaryPrimitives.WriteUInt64LittleEndian(span[18..], message.Term);
        BinaryPrimitives.WriteUInt64LittleEndian(span[26..], message.LogTerm);
        BinaryPrimitives.WriteUInt64LittleEndian(span[34..], message.Index);
        BinaryPrimitives.WriteUInt64LittleEndian(span[42..], message.Commit);
        BinaryPrimitives.WriteUInt64LittleEndian(span[50..], message.RejectHint);
        BinaryPrimitives.WriteUInt64LittleEndian(span[58..], message.Context);
        output.Advance(MessageHeaderBytes);
        WriteU32(output, (uint)message.Entries.Length);
        foreach (var entry in message.Entries)
        {
            WriteU64(output, entry.Term);
            WriteU64(output, entry.Index);
            output.GetSpan(1)[0] = (byte)entry.Type;
            output.Advance(1);
            WriteBytes(output, entry.Data.Span);
        }
        if (message.Snapshot is { } snapshot)
        {
            var metadata = snapshot.Metadata;
            WriteU64(output, metadata.Index);
            WriteU64(output, metadata.Term);
            WriteIds(output, metadata.Config.Voters);
            WriteIds(output, metadata.Config.Learners);
            WriteBytes(output, snapshotDataInChunks ? [] : snapshot.Data.Span);
        }
    }

    /// <summary>The header of a <see cref="PeerFrameType.SnapshotChunk"/> frame; <paramref name="length"/> data bytes follow it.</summary>
    public static void WriteSnapshotChunkHeader(IBufferWriter<byte> output, long total, long offset, int length)
    {
        var header = output.GetSpan(FrameHeaderBytes + 16);
        BinaryPrimitives.WriteInt32LittleEndian(header, 1 + 16 + length);
        header[4] = (byte)PeerFrameType.SnapshotChunk;
        BinaryPrimitives.WriteInt64LittleEndian(header[5..], total);
        BinaryPrimitives.WriteInt64LittleEndian(header[13..], offset);
        output.Advance(FrameHeaderBytes + 16);
    }

    /// <param name="payload">the frame payload</param>
    /// <param name="chunkedSnapshotData">where the snapshot's data comes from when it was sent in chunks</param>
    public static Message ReadMessage(ReadOnlySpan<byte> payload, Func<byte[]>? chunkedSnapshotData = null)
    {
        var reader = new SpanReader(payload);
        var type = (MessageType)reader.Byte();
        var flags = reader.Byte();
        var from = reader.U64();
        var to = reader.U64();
        var term = reader.U64();
        var logTerm = reader.U64();
        var index = reader.U64();
        var commit = reader.U64();
        var rejectHint = reader.U64();
        var context = reader.U64();
        var entries = new Entry[reader.Count(21)];
        for (var i = 0; i < entries.Length; i++)
        {
            var entryTerm = reader.U64();
            var entryIndex = reader.U64();
            var entryType = (EntryType)reader.Byte();
            entries[i] = new Entry(entryTerm, entryIndex, entryType, reader.Bytes().ToArray());
        }
        Snapshot? snapshot = null;
        if ((flags & 2) != 0)
        {
            var snapshotIndex = reader.U64();
            var snapshotTerm = reader.U64();
            var voters = reader.Ids();
            var learners = reader.Ids();
            var inline = reader.Bytes();
            if ((flags & 4) != 0 && (chunkedSnapshotData is null || !inline.IsEmpty))
            {
                throw new FormatException("chunked snapshot message without its chunks");
            }
            var data = (flags & 4) != 0 ? chunkedSnapshotData!() : inline.ToArray();
            snapshot = new Snapshot(new SnapshotMetadata(snapshotIndex, snapshotTerm, new ConfigState(voters, learners)), data);
        }
        if (!reader.IsAtEnd || !Enum.IsDefined(type))
        {
            throw new FormatException("malformed raft message");
        }
        return new Message
        {
            Type = type, From = from, To = to, Term = term, LogTerm = logTerm, Index = index, Commit = commit,
            Entries = entries, Reject = (flags & 1) != 0, CommitOnly = (flags & 8) != 0, RejectHint = rejectHint, Snapshot = snapshot, Context = context,
        };
    }

    private static void WriteIds(IBufferWriter<byte> output, IReadOnlyList<ulong> ids)
    {
        WriteU32(output, (uint)ids.Count);
        foreach (var id in ids)
        {
            WriteU64(output, id);
        }
    }

    private static void WriteU64(IBufferWriter<byte> output, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(output.GetSpan(8), value);
        output.Advance(8);
    }

    private static void WriteU32(IBufferWriter<byte> output, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(output.GetSpan(4), value);
        output.Advance(4);
    }

    private static void WriteBytes(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        WriteU32(output, (uint)bytes.Length);
        output.Write(bytes);
    }

    private static void WriteString(IBufferWriter<byte> output, string value) => WriteBytes(output, Encoding.UTF8.GetBytes(value));

    private ref struct SpanReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool IsAtEnd => _position == _data.Length;

        public byte Byte()
        {
            Require(1);
            return _data[_position++];
        }

        public ulong U64()
        {
            Require(8);
            var value = BinaryPrimitives.ReadUInt64LittleEndian(_data[_position..]);
            _position += 8;
            return value;
        }

        public int Count(int minimumBytesEach)
        {
            Require(4);
            var count = BinaryPrimitives.ReadUInt32LittleEndian(_data[_position..]);
            _position += 4;
            if (count > (uint)(_data.Length - _position) / (uint)minimumBytesEach)
            {
                throw new FormatException("count exceeds the frame");
            }
            return (int)count;
        }

        public ReadOnlySpan<byte> Bytes()
        {
            var length = Count(1);
            var bytes = _data.Slice(_position, length);
            _position += length;
            return bytes;
        }

        public string String() => Encoding.UTF8.GetString(Bytes());

        public ulong[] Ids()
        {
            var ids = new ulong[Count(8)];
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = U64();
            }
            return ids;
        }

        private readonly void Require(int bytes)
        {
            if (_position + bytes > _data.Length)
            {
                throw new FormatException("frame truncated");
            }
        }
    }
}
