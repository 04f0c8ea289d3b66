using Etcdserverpb;
using Google.Protobuf;

namespace Parley.Server.Tests.Differential;

/// <summary>Short builders for the etcd requests the differential tests send.</summary>
public static class Requests
{
    /// <summary>range_end meaning "every key from key on" (etcdctl --from-key).</summary>
    public const string FromKey = "\0";

    public static ByteString Bytes(string text) => DifferentialPair.Bytes(text);

    /// <summary>etcd's prefix end: the last byte below 0xFF incremented, the rest dropped.</summary>
    public static string PrefixEnd(string prefix)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(prefix);
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (bytes[i] < 0xFF)
            {
                bytes[i]++;
                return System.Text.Encoding.UTF8.GetString(bytes, 0, i + 1);
            }
        }
        return FromKey;
    }

    public static PutRequest Put(string key, string value, bool prevKv = false, long lease = 0, bool ignoreValue = false, bool ignoreLease = false) => new()
    {
        Key = Bytes(key), Value = Bytes(value), PrevKv = prevKv, Lease = lease, IgnoreValue = ignoreValue, IgnoreLease = ignoreLease,
    };

    public static RangeRequest Get(string key, string rangeEnd = "", long limit = 0, long revision = 0) => new()
    {
        Key = Bytes(key), RangeEnd = Bytes(rangeEnd), Limit = limit, Revision = revision,
    };

    public static RangeRequest Prefix(string prefix, long limit = 0, long revision = 0) => Get(prefix, PrefixEnd(prefix), limit, revision);

    public static DeleteRangeRequest Delete(string key, string rangeEnd = "", bool prevKv = false) => new()
    {
        Key = Bytes(key), RangeEnd = Bytes(rangeEnd), PrevKv = prevKv,
    };

    public static Compare Value(string key, Compare.Types.CompareResult result, string value, string rangeEnd = "") => new()
    {
        Key = Bytes(key), RangeEnd = Bytes(rangeEnd), Target = Compare.Types.CompareTarget.Value, Result = result, Value = Bytes(value),
    };

    public static Compare Version(string key, Compare.Types.CompareResult result, long version, string rangeEnd = "") => new()
    {
        Key = Bytes(key), RangeEnd = Bytes(rangeEnd), Target = Compare.Types.CompareTarget.Version, Result = result, Version = version,
    };

    public static Compare Create(string key, Compare.Types.CompareResult result, long revision, string rangeEnd = "") => new()
    {
        Key = Bytes(key), RangeEnd = Bytes(rangeEnd), Target = Compare.Types.CompareTarget.Create, Result = result, CreateRevision = revision,
    };

    public static Compare Mod(string key, Compare.Types.CompareResult result, long revision, string rangeEnd = "") => new()
    {
        Key = Bytes(key), RangeEnd = Bytes(rangeEnd), Target = Compare.Types.CompareTarget.Mod, Result = result, ModRevision = revision,
    };

    public static Compare Lease(string key, Compare.Types.CompareResult result, long lease, string rangeEnd = "") => new()
    {
        Key = Bytes(key), RangeEnd = Bytes(rangeEnd), Target = Compare.Types.CompareTarget.Lease, Result = result, Lease = lease,
    };

    public static RequestOp Op(PutRequest put) => new() { RequestPut = put };

    public static RequestOp Op(RangeRequest range) => new() { RequestRange = range };

    public static RequestOp Op(DeleteRangeRequest delete) => new() { RequestDeleteRange = delete };

    public static RequestOp Op(TxnRequest txn) => new() { RequestTxn = txn };

    public static TxnRequest Txn(IEnumerable<Compare> compares, IEnumerable<RequestOp> success, IEnumerable<RequestOp>? failure = null)
    {
        var txn = new TxnRequest();
        txn.Compare.AddRange(compares);
        txn.Success.AddRange(success);
        txn.Failure.AddRange(failure ?? []);
        return txn;
    }
}
