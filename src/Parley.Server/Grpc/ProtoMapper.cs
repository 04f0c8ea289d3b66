using System.Runtime.InteropServices;
using Google.Protobuf;
using Mvcc = Parley.Mvcc;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Grpc;

/// <summary>Copies between the etcd protobuf messages and Parley.Mvcc's request/response classes.</summary>
internal static class ProtoMapper
{
    /// <summary>
    /// The bytes of a field of a parsed request without a copy: a parsed ByteString owns a whole array of its own, and
    /// the request is not changed after parsing, so the Mvcc request can share it (a put is encoded into its proposal,
    /// and a range only reads). Anything else (a slice of a larger array) is copied.
    /// </summary>
    private static byte[] Shared(ByteString bytes) =>
        MemoryMarshal.TryGetArray(bytes.Memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : bytes.ToByteArray();

    public static Mvcc.RangeRequest ToMvcc(EtcdPb.RangeRequest request) => new()
    {
        Key = Shared(request.Key),
        RangeEnd = Shared(request.RangeEnd),
        Limit = request.Limit,
        Revision = request.Revision,
        SortOrder = (Mvcc.SortOrder)request.SortOrder,
        SortTarget = (Mvcc.SortTarget)request.SortTarget,
        Serializable = request.Serializable,
        KeysOnly = request.KeysOnly,
        CountOnly = request.CountOnly,
        MinModRevision = request.MinModRevision,
        MaxModRevision = request.MaxModRevision,
        MinCreateRevision = request.MinCreateRevision,
        MaxCreateRevision = request.MaxCreateRevision,
    };

    public static Mvcc.PutRequest ToMvcc(EtcdPb.PutRequest request) => new()
    {
        Key = Shared(request.Key),
        Value = Shared(request.Value),
        Lease = request.Lease,
        PrevKv = request.PrevKv,
        IgnoreValue = request.IgnoreValue,
        IgnoreLease = request.IgnoreLease,
    };

    public static Mvcc.DeleteRangeRequest ToMvcc(EtcdPb.DeleteRangeRequest request) => new()
    {
        Key = request.Key.ToByteArray(),
        RangeEnd = request.RangeEnd.ToByteArray(),
        PrevKv = request.PrevKv,
    };

    public static Mvcc.TxnRequest ToMvcc(EtcdPb.TxnRequest request) => new()
    {
        Compare = request.Compare.Select(ToMvcc).ToArray(),
        Success = request.Success.Select(ToMvcc).ToArray(),
        Failure = request.Failure.Select(ToMvcc).ToArray(),
    };

    private static Mvcc.Compare ToMvcc(EtcdPb.Compare compare) => new()
    {
        Result = (Mvcc.CompareResult)compare.Result,
        Target = (Mvcc.CompareTarget)compare.Target,
        Key = compare.Key.ToByteArray(),
        RangeEnd = compare.RangeEnd.ToByteArray(),
        Version = compare.HasVersion ? compare.Version : 0,
        CreateRevision = compare.HasCreateRevision ? compare.CreateRevision : 0,
        ModRevision = compare.HasModRevision ? compare.ModRevision : 0,
        Value = compare.HasValue ? compare.Value.ToByteArray() : [],
        Lease = compare.HasLease ? compare.Lease : 0,
    };

    private static Mvcc.RequestOp ToMvcc(EtcdPb.RequestOp op) => op.RequestCase switch
    {
        EtcdPb.RequestOp.RequestOneofCase.RequestRange => Mvcc.RequestOp.Range(ToMvcc(op.RequestRange)),
        EtcdPb.RequestOp.RequestOneofCase.RequestPut => Mvcc.RequestOp.Put(ToMvcc(op.RequestPut)),
        EtcdPb.RequestOp.RequestOneofCase.RequestDeleteRange => Mvcc.RequestOp.DeleteRange(ToMvcc(op.RequestDeleteRange)),
        EtcdPb.RequestOp.RequestOneofCase.RequestTxn => Mvcc.RequestOp.Txn(ToMvcc(op.RequestTxn)),
        _ => new Mvcc.RequestOp(),
    };

    public static EtcdPb.RangeResponse ToProto(Mvcc.RangeResponse response, EtcdPb.ResponseHeader header)
    {
        var proto = new EtcdPb.RangeResponse { Header = header, More = response.More, Count = response.Count };
        foreach (var kv in response.Kvs)
        {
            proto.Kvs.Add(ToProto(kv));
        }
        return proto;
    }

    public static EtcdPb.PutResponse ToProto(Mvcc.PutResponse response, EtcdPb.ResponseHeader header) =>
        new() { Header = header, PrevKv = response.PrevKv is null ? null : ToProto(response.PrevKv) };

    public static EtcdPb.DeleteRangeResponse ToProto(Mvcc.DeleteRangeResponse response, EtcdPb.ResponseHeader header)
    {
        var proto = new EtcdPb.DeleteRangeResponse { Header = header, Deleted = response.Deleted };
        foreach (var kv in response.PrevKvs)
        {
            proto.PrevKvs.Add(ToProto(kv));
        }
        return proto;
    }

    /// <summary>Nested responses carry only a revision header (and a nested txn's own header is empty), as in etcd.</summary>
    public static EtcdPb.TxnResponse ToProto(Mvcc.TxnResponse response, EtcdPb.ResponseHeader? header)
    {
        var proto = new EtcdPb.TxnResponse { Header = header, Succeeded = response.Succeeded };
        foreach (var op in response.Responses)
        {
            proto.Responses.Add(ToProto(op));
        }
        return proto;
    }

    private static EtcdPb.ResponseOp ToProto(Mvcc.ResponseOp op)
    {
        if (op.ResponseRange is { } range)
        {
            return new EtcdPb.ResponseOp { ResponseRange = ToProto(range, RevisionOnly(range.Header)) };
        }
        if (op.ResponsePut is { } put)
        {
            return new EtcdPb.ResponseOp { ResponsePut = ToProto(put, RevisionOnly(put.Header)) };
        }
        if (op.ResponseDeleteRange is { } delete)
        {
            return new EtcdPb.ResponseOp { ResponseDeleteRange = ToProto(delete, RevisionOnly(delete.Header)) };
        }
        return new EtcdPb.ResponseOp { ResponseTxn = ToProto(op.ResponseTxn!, new EtcdPb.ResponseHeader()) };
    }

    private static EtcdPb.ResponseHeader RevisionOnly(Mvcc.ResponseHeader header) => new() { Revision = header.Revision };

    public static Mvccpb.KeyValue ToProto(Mvcc.KeyValue kv) => new()
    {
        Key = UnsafeByteOperations.UnsafeWrap(kv.Key),
        CreateRevision = kv.CreateRevision,
        ModRevision = kv.ModRevision,
        Version = kv.Version,
        Value = UnsafeByteOperations.UnsafeWrap(kv.Value),
        Lease = kv.Lease,
    };
}
