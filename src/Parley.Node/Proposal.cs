using Parley.Mvcc;

namespace Parley.Node;

/// <summary>
/// One replicated write as it travels in a Raft entry: who proposed it (member and a per-incarnation id, so the
/// proposer can match the applied entry to its waiting request) and the MVCC command.
/// </summary>
public sealed record Proposal(ulong Origin, ulong ProposalId, WriteCommand Command)
{
    /// <summary>Bytes of framing around the command (format byte, origin, id, kind).</summary>
    public const int HeaderBytes = 18;

    // 2 adds the caller (user name, auth revision) after the kind; entries of format 1 have no caller.
    private const byte FormatVersion = 2;
    private const byte FormatVersionWithoutCaller = 1;

    public byte[] Encode()
    {
        var writer = new CommandWriter(EncodedBytesEstimate());
        writer.WriteByte(FormatVersion);
        writer.WriteFixed64(Origin);
        writer.WriteFixed64(ProposalId);
        writer.WriteByte((byte)Command.Kind);
        writer.WriteUtf8(Command.Caller.User);
        writer.WriteSigned(Command.Caller.Revision);
        switch (Command.Request)
        {
            case PutRequest put:
                WritePut(writer, put);
                break;
            case DeleteRangeRequest delete:
                WriteDelete(writer, delete);
                break;
            case TxnRequest txn:
                WriteTxn(writer, txn);
                break;
            case CompactionRequest compaction:
                writer.WriteSigned(compaction.Revision);
                writer.WriteBoolean(compaction.Physical);
                break;
            case LeaseGrantRequest grant:
                writer.WriteSigned(grant.TTL);
                writer.WriteSigned(grant.ID);
                break;
            case LeaseRevokeRequest revoke:
                writer.WriteSigned(revoke.ID);
                break;
            case AuthRequest auth:
                writer.WriteBytes(auth.Encode());
                break;
            case AlarmRequest alarm:
                writer.WriteByte((byte)alarm.Action);
                writer.WriteUnsigned(alarm.MemberId);
                writer.WriteByte((byte)alarm.Alarm);
                break;
            case LeaseCheckpointRequest checkpoint:
                writer.WriteUnsigned((ulong)checkpoint.Checkpoints.Count);
                foreach (var item in checkpoint.Checkpoints)
                {
                    writer.WriteSigned(item.ID);
                    writer.WriteSigned(item.RemainingTtlSeconds);
                }
                break;
            default:
                throw new ArgumentException("unknown write request " + Command.Request.GetType().Name, nameof(Command));
        }
        return writer.ToArray();
    }

    /// <summary>
    /// The encoding's size: exact for a put (the hot path: one array, handed over without a copy), a first guess for
    /// the rest (the writer grows and copies once at the end).
    /// </summary>
    private int EncodedBytesEstimate()
    {
        var header = HeaderBytes + CommandWriter.BytesBytes(System.Text.Encoding.UTF8.GetByteCount(Command.Caller.User))
            + CommandWriter.SignedBytes(Command.Caller.Revision);
        return Command.Request switch
        {
            PutRequest put => header + PutBytes(put),
            _ => header + 64,
        };
    }

    private static int PutBytes(PutRequest put) =>
        CommandWriter.BytesBytes(put.Key.Length) + CommandWriter.BytesBytes(put.Value.Length) + CommandWriter.SignedBytes(put.Lease) + 1;

    /// <summary>Reads only who proposed it and the proposal id (what a leader needs to answer a forward).</summary>
    public static bool TryReadOrigin(ReadOnlySpan<byte> data, out ulong origin, out ulong proposalId)
    {
        origin = 0;
        proposalId = 0;
        if (data.Length < 17 || (data[0] != FormatVersion && data[0] != FormatVersionWithoutCaller))
        {
            return false;
        }
        origin = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(data[1..]);
        proposalId = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(data[9..]);
        return true;
    }

    /// <summary>Decodes an entry's data; throws <see cref="FormatException"/> on anything malformed.</summary>
    public static Proposal Decode(ReadOnlySpan<byte> data)
    {
        var reader = new CommandReader(data);
        var format = reader.ReadByte();
        if (format != FormatVersion && format != FormatVersionWithoutCaller)
        {
            throw new FormatException("unknown proposal format version");
        }
        var origin = reader.ReadFixed64();
        var id = reader.ReadFixed64();
        var kind = (WriteCommandKind)reader.ReadByte();
        var caller = AuthCaller.None;
        if (format == FormatVersion)
        {
            var user = reader.ReadUtf8();
            var revision = reader.ReadSigned();
            caller = user.Length > 0 && revision > 0 ? new AuthCaller(user, revision) : AuthCaller.None;
        }
        WriteCommand command = kind switch
        {
            WriteCommandKind.Put => WriteCommand.Put(ReadPut(ref reader)),
            WriteCommandKind.DeleteRange => WriteCommand.DeleteRange(ReadDelete(ref reader)),
            WriteCommandKind.Txn => WriteCommand.Txn(ReadTxn(ref reader, 0)),
            WriteCommandKind.Compaction => WriteCommand.Compaction(new CompactionRequest { Revision = reader.ReadSigned(), Physical = reader.ReadBoolean() }),
            WriteCommandKind.LeaseGrant => WriteCommand.LeaseGrant(new LeaseGrantRequest { TTL = reader.ReadSigned(), ID = reader.ReadSigned() }),
            WriteCommandKind.LeaseRevoke => WriteCommand.LeaseRevoke(new LeaseRevokeRequest { ID = reader.ReadSigned() }),
            WriteCommandKind.LeaseExpire => WriteCommand.LeaseExpire(new LeaseRevokeRequest { ID = reader.ReadSigned() }),
            WriteCommandKind.Auth => WriteCommand.Auth(AuthRequest.Decode(reader.ReadBytes())),
            WriteCommandKind.LeaseCheckpoint => WriteCommand.LeaseCheckpoint(ReadCheckpoint(ref reader)),
            WriteCommandKind.Alarm => WriteCommand.Alarm(ReadAlarm(ref reader)),
            _ => throw new FormatException("unknown write command kind"),
        };
        if (!reader.IsAtEnd)
        {
            throw new FormatException("trailing bytes after the proposal");
        }
        return new Proposal(origin, id, caller.IsNone ? command : command.WithCaller(caller));
    }

    private static AlarmRequest ReadAlarm(ref CommandReader reader)
    {
        var action = (AlarmAction)reader.ReadByte();
        var memberId = reader.ReadUnsigned();
        var alarm = (AlarmType)reader.ReadByte();
        if (!Enum.IsDefined(action) || !Enum.IsDefined(alarm))
        {
            throw new FormatException("alarm action or type out of range");
        }
        return new AlarmRequest { Action = action, MemberId = memberId, Alarm = alarm };
    }

    private static LeaseCheckpointRequest ReadCheckpoint(ref CommandReader reader)
    {
        var checkpoints = new LeaseCheckpoint[reader.ReadCount()];
        for (var i = 0; i < checkpoints.Length; i++)
        {
            checkpoints[i] = new LeaseCheckpoint(reader.ReadSigned(), reader.ReadSigned());
        }
        return new LeaseCheckpointRequest { Checkpoints = checkpoints };
    }

    private static void WritePut(CommandWriter writer, PutRequest put)
    {
        writer.WriteBytes(put.Key);
        writer.WriteBytes(put.Value);
        writer.WriteSigned(put.Lease);
        writer.WriteByte((byte)((put.PrevKv ? 1 : 0) | (put.IgnoreValue ? 2 : 0) | (put.IgnoreLease ? 4 : 0)));
    }

    private static PutRequest ReadPut(ref CommandReader reader)
    {
        var key = reader.ReadBytes();
        var value = reader.ReadLongLivedBytes();
        var lease = reader.ReadSigned();
        var flags = reader.ReadByte();
        return new PutRequest
        {
            Key = key, Value = value, Lease = lease,
            PrevKv = (flags & 1) != 0, IgnoreValue = (flags & 2) != 0, IgnoreLease = (flags & 4) != 0,
        };
    }

    private static void WriteDelete(CommandWriter writer, DeleteRangeRequest delete)
    {
        writer.WriteBytes(delete.Key);
        writer.WriteBytes(delete.RangeEnd);
        writer.WriteBoolean(delete.PrevKv);
    }

    private static DeleteRangeRequest ReadDelete(ref CommandReader reader) =>
        new() { Key = reader.ReadBytes(), RangeEnd = reader.ReadBytes(), PrevKv = reader.ReadBoolean() };

    private static void WriteRange(CommandWriter writer, RangeRequest range)
    {
        writer.WriteBytes(range.Key);
        writer.WriteBytes(range.RangeEnd);
        writer.WriteSigned(range.Limit);
        writer.WriteSigned(range.Revision);
        writer.WriteByte((byte)range.SortOrder);
        writer.WriteByte((byte)range.SortTarget);
        writer.WriteByte((byte)((range.Serializable ? 1 : 0) | (range.KeysOnly ? 2 : 0) | (range.CountOnly ? 4 : 0)));
        writer.WriteSigned(range.MinModRevision);
        writer.WriteSigned(range.MaxModRevision);
        writer.WriteSigned(range.MinCreateRevision);
        writer.WriteSigned(range.MaxCreateRevision);
    }

    private static RangeRequest ReadRange(ref CommandReader reader)
    {
        var key = reader.ReadBytes();
        var end = reader.ReadBytes();
        var limit = reader.ReadSigned();
        var revision = reader.ReadSigned();
        var order = (SortOrder)reader.ReadByte();
        var target = (SortTarget)reader.ReadByte();
        var flags = reader.ReadByte();
        return new RangeRequest
        {
            Key = key, RangeEnd = end, Limit = limit, Revision = revision, SortOrder = order, SortTarget = target,
            Serializable = (flags & 1) != 0, KeysOnly = (flags & 2) != 0, CountOnly = (flags & 4) != 0,
            MinModRevision = reader.ReadSigned(), MaxModRevision = reader.ReadSigned(),
            MinCreateRevision = reader.ReadSigned(), MaxCreateRevision = reader.ReadSigned(),
        };
    }

    private static void WriteTxn(CommandWriter writer, TxnRequest txn)
    {
        writer.WriteUnsigned((ulong)txn.Compare.Count);
        foreach (var compare in txn.Compare)
        {
            writer.WriteByte((byte)compare.Result);
            writer.WriteByte((byte)compare.Target);
            writer.WriteBytes(compare.Key);
            writer.WriteBytes(compare.RangeEnd);
            writer.WriteSigned(compare.Version);
            writer.WriteSigned(compare.CreateRevision);
            writer.WriteSigned(compare.ModRevision);
            writer.WriteBytes(compare.Value);
            writer.WriteSigned(compare.Lease);
        }
        WriteOps(writer, txn.Success);
        WriteOps(writer, txn.Failure);
    }

    private static void WriteOps(CommandWriter writer, IReadOnlyList<RequestOp> ops)
    {
        writer.WriteUnsigned((ulong)ops.Count);
        foreach (var op in ops)
        {
            if (op.RequestRange is { } range)
            {
                writer.WriteByte(1);
                WriteRange(writer, range);
            }
            else if (op.RequestPut is { } put)
            {
                writer.WriteByte(2);
                WritePut(writer, put);
            }
            else if (op.RequestDeleteRange is { } delete)
            {
                writer.WriteByte(3);
                WriteDelete(writer, delete);
            }
            else if (op.RequestTxn is { } nested)
            {
                writer.WriteByte(4);
                WriteTxn(writer, nested);
            }
            else
            {
                writer.WriteByte(0); // no op set: the store answers "key not found", as etcd does
            }
        }
    }

    private const int NestingDepthMax = 64;

    private static TxnRequest ReadTxn(ref CommandReader reader, int depth)
    {
        if (depth > NestingDepthMax)
        {
            throw new FormatException("txn nesting too deep");
        }
        var compares = new Compare[reader.ReadCount()];
        for (var i = 0; i < compares.Length; i++)
        {
            compares[i] = new Compare
            {
                Result = (CompareResult)reader.ReadByte(),
                Target = (CompareTarget)reader.ReadByte(),
                Key = reader.ReadBytes(),
                RangeEnd = reader.ReadBytes(),
                Version = reader.ReadSigned(),
                CreateRevision = reader.ReadSigned(),
                ModRevision = reader.ReadSigned(),
                Value = reader.ReadBytes(),
                Lease = reader.ReadSigned(),
            };
        }
        var success = ReadOps(ref reader, depth);
        var failure = ReadOps(ref reader, depth);
        return new TxnRequest { Compare = compares, Success = success, Failure = failure };
    }

    private static RequestOp[] ReadOps(ref CommandReader reader, int depth)
    {
        var ops = new RequestOp[reader.ReadCount()];
        for (var i = 0; i < ops.Length; i++)
        {
            ops[i] = reader.ReadByte() switch
            {
                0 => new RequestOp(),
                1 => RequestOp.Range(ReadRange(ref reader)),
                2 => RequestOp.Put(ReadPut(ref reader)),
                3 => RequestOp.DeleteRange(ReadDelete(ref reader)),
                4 => RequestOp.Txn(ReadTxn(ref reader, depth + 1)),
                _ => throw new FormatException("unknown request op"),
            };
        }
        return ops;
    }
}
