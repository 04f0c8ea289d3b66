namespace Parley.Mvcc;

/// <summary>Snapshot encoding of recorded write outcomes (responses, recursively for txns).</summary>
internal static class OutcomeCodec
{
    public static void Write(SnapshotWriter writer, WriteOutcome outcome)
    {
        writer.WriteByte((byte)outcome.Kind);
        writer.WriteByte((byte)outcome.Error);
        switch (outcome.Response)
        {
            case null:
                break;
            case PutResponse put:
                WritePut(writer, put);
                break;
            case DeleteRangeResponse delete:
                WriteDelete(writer, delete);
                break;
            case TxnResponse txn:
                WriteTxn(writer, txn);
                break;
            case CompactionResponse compaction:
                writer.WriteSigned(compaction.Header.Revision);
                break;
            case LeaseGrantResponse grant:
                writer.WriteSigned(grant.Header.Revision);
                writer.WriteSigned(grant.ID);
                writer.WriteSigned(grant.TTL);
                break;
            case LeaseRevokeResponse revoke:
                writer.WriteSigned(revoke.Header.Revision);
                break;
            case LeaseCheckpointResponse checkpoint:
                writer.WriteSigned(checkpoint.Header.Revision);
                break;
            case AlarmResponse alarm:
                writer.WriteSigned(alarm.Header.Revision);
                writer.WriteUnsigned((ulong)alarm.Alarms.Count);
                foreach (AlarmMember member in alarm.Alarms)
                {
                    writer.WriteUnsigned(member.MemberId);
                    writer.WriteByte((byte)member.Alarm);
                }
                break;
            default:
                throw new InvalidOperationException("unknown response type " + outcome.Response.GetType().Name);
        }
    }

    public static WriteOutcome Read(ref SnapshotReader reader)
    {
        var kind = (WriteCommandKind)reader.ReadByte();
        var error = (MvccError)reader.ReadByte();
        SnapshotReader.Require(Enum.IsDefined(kind) && Enum.IsDefined(error), "outcome kind or error out of range");
        if (error != MvccError.None)
        {
            return new WriteOutcome(kind, error, null, isReplay: false);
        }
        object response = kind switch
        {
            WriteCommandKind.Put => ReadPut(ref reader),
            WriteCommandKind.DeleteRange => ReadDelete(ref reader),
            WriteCommandKind.Txn => ReadTxn(ref reader),
            WriteCommandKind.Compaction => new CompactionResponse { Header = new ResponseHeader(reader.ReadSigned()) },
            WriteCommandKind.LeaseGrant => new LeaseGrantResponse
            {
                Header = new ResponseHeader(reader.ReadSigned()),
                ID = reader.ReadSigned(),
                TTL = reader.ReadSigned(),
            },
            WriteCommandKind.LeaseCheckpoint => new LeaseCheckpointResponse { Header = new ResponseHeader(reader.ReadSigned()) },
            WriteCommandKind.Alarm => ReadAlarm(ref reader),
            _ => new LeaseRevokeResponse { Header = new ResponseHeader(reader.ReadSigned()) },
        };
        return new WriteOutcome(kind, error, response, isReplay: false);
    }

    private static AlarmResponse ReadAlarm(ref SnapshotReader reader)
    {
        long revision = reader.ReadSigned();
        var alarms = new AlarmMember[reader.ReadCount()];
        for (int index = 0; index < alarms.Length; index++)
        {
            alarms[index] = new AlarmMember(reader.ReadUnsigned(), (AlarmType)reader.ReadByte());
        }
        return new AlarmResponse { Header = new ResponseHeader(revision), Alarms = alarms };
    }

    private static void WriteKeyValue(SnapshotWriter writer, KeyValue kv)
    {
        writer.WriteBytes(kv.Key);
        writer.WriteSigned(kv.CreateRevision);
        writer.WriteSigned(kv.ModRevision);
        writer.WriteSigned(kv.Version);
        writer.WriteBytes(kv.Value);
        writer.WriteSigned(kv.Lease);
    }

    private static KeyValue ReadKeyValue(ref SnapshotReader reader) =>
        new(reader.ReadBytes(), reader.ReadSigned(), reader.ReadSigned(), reader.ReadSigned(), reader.ReadBytes(), reader.ReadSigned());

    private static void WriteKeyValues(SnapshotWriter writer, IReadOnlyList<KeyValue> kvs)
    {
        writer.WriteUnsigned((ulong)kvs.Count);
        foreach (KeyValue kv in kvs)
        {
            WriteKeyValue(writer, kv);
        }
    }

    private static KeyValue[] ReadKeyValues(ref SnapshotReader reader)
    {
        var kvs = new KeyValue[reader.ReadCount()];
        for (int index = 0; index < kvs.Length; index++)
        {
            kvs[index] = ReadKeyValue(ref reader);
        }
        return kvs;
    }

    private static void WritePut(SnapshotWriter writer, PutResponse put)
    {
        writer.WriteSigned(put.Header.Revision);
        writer.WriteBoolean(put.PrevKv is not null);
        if (put.PrevKv is not null)
        {
            WriteKeyValue(writer, put.PrevKv);
        }
    }

    private static PutResponse ReadPut(ref SnapshotReader reader)
    {
        long revision = reader.ReadSigned();
        KeyValue? previous = reader.ReadBoolean() ? ReadKeyValue(ref reader) : null;
        return new PutResponse { Header = new ResponseHeader(revision), PrevKv = previous };
    }

    private static void WriteDelete(SnapshotWriter writer, DeleteRangeResponse delete)
    {
        writer.WriteSigned(delete.Header.Revision);
        writer.WriteSigned(delete.Deleted);
        WriteKeyValues(writer, delete.PrevKvs);
    }

    private static DeleteRangeResponse ReadDelete(ref SnapshotReader reader) => new()
    {
        Header = new ResponseHeader(reader.ReadSigned()),
        Deleted = reader.ReadSigned(),
        PrevKvs = ReadKeyValues(ref reader),
    };

    private static void WriteTxn(SnapshotWriter writer, TxnResponse txn)
    {
        writer.WriteSigned(txn.Header.Revision);
        writer.WriteBoolean(txn.Succeeded);
        writer.WriteUnsigned((ulong)txn.Responses.Count);
        foreach (ResponseOp op in txn.Responses)
        {
            if (op.ResponseRange is { } range)
            {
                writer.WriteByte(1);
                writer.WriteSigned(range.Header.Revision);
                WriteKeyValues(writer, range.Kvs);
                writer.WriteBoolean(range.More);
                writer.WriteSigned(range.Count);
            }
            else if (op.ResponsePut is { } put)
            {
                writer.WriteByte(2);
                WritePut(writer, put);
            }
            else if (op.ResponseDeleteRange is { } delete)
            {
                writer.WriteByte(3);
                WriteDelete(writer, delete);
            }
            else
            {
                writer.WriteByte(4);
                WriteTxn(writer, op.ResponseTxn!);
            }
        }
    }

    private static TxnResponse ReadTxn(ref SnapshotReader reader)
    {
        long revision = reader.ReadSigned();
        bool succeeded = reader.ReadBoolean();
        var responses = new ResponseOp[reader.ReadCount()];
        for (int index = 0; index < responses.Length; index++)
        {
            byte kind = reader.ReadByte();
            responses[index] = kind switch
            {
                1 => new ResponseOp
                {
                    ResponseRange = new RangeResponse
                    {
                        Header = new ResponseHeader(reader.ReadSigned()),
                        Kvs = ReadKeyValues(ref reader),
                        More = reader.ReadBoolean(),
                        Count = reader.ReadSigned(),
                    },
                },
                2 => new ResponseOp { ResponsePut = ReadPut(ref reader) },
                3 => new ResponseOp { ResponseDeleteRange = ReadDelete(ref reader) },
                4 => new ResponseOp { ResponseTxn = ReadTxn(ref reader) },
                _ => throw new InvalidDataException("response op kind out of range"),
            };
        }
        return new TxnResponse { Header = new ResponseHeader(revision), Succeeded = succeeded, Responses = responses };
    }
}
