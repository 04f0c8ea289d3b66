using System.Text;

namespace Parley.Mvcc.Tests;

/// <summary>Short helpers so each test reads as the claim it makes.</summary>
internal static class Kit
{
    public static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    public static string S(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    public static T Ok<T>(MvccResult<T> result)
        where T : class
    {
        Assert.True(result.IsSuccess, result.ErrorMessage);
        return result.Value!;
    }

    public static void Fails<T>(MvccResult<T> result, string message)
        where T : class
    {
        Assert.False(result.IsSuccess, "expected: " + message);
        Assert.Equal(message, result.ErrorMessage);
    }

    public static PutResponse Put(this MvccStore store, string key, string value, long lease = 0, bool prevKv = false) =>
        Ok(store.Put(new PutRequest { Key = B(key), Value = B(value), Lease = lease, PrevKv = prevKv }));

    public static DeleteRangeResponse Delete(this MvccStore store, string key, string rangeEnd = "", bool prevKv = false) =>
        Ok(store.DeleteRange(new DeleteRangeRequest { Key = B(key), RangeEnd = B(rangeEnd), PrevKv = prevKv }));

    public static KeyValue? Get(this MvccStore store, string key, long revision = 0)
    {
        RangeResponse response = Ok(store.Range(new RangeRequest { Key = B(key), Revision = revision }));
        return response.Kvs.Count == 0 ? null : response.Kvs[0];
    }

    public static RangeResponse Range(this MvccStore store, string key, string rangeEnd) =>
        Ok(store.Range(new RangeRequest { Key = B(key), RangeEnd = B(rangeEnd) }));

    public static string Keys(RangeResponse response) => string.Join(",", response.Kvs.Select(kv => S(kv.Key)));

    public static long Grant(this MvccStore store, long id, long ttl = 10) =>
        Ok(store.LeaseGrant(new LeaseGrantRequest { ID = id, TTL = ttl })).ID;

    public static RequestOp PutOp(string key, string value, long lease = 0) =>
        RequestOp.Put(new PutRequest { Key = B(key), Value = B(value), Lease = lease });

    public static RequestOp DeleteOp(string key, string rangeEnd = "") =>
        RequestOp.DeleteRange(new DeleteRangeRequest { Key = B(key), RangeEnd = B(rangeEnd) });

    public static RequestOp GetOp(string key, string rangeEnd = "", long revision = 0) =>
        RequestOp.Range(new RangeRequest { Key = B(key), RangeEnd = B(rangeEnd), Revision = revision });

    public static Compare ValueIs(string key, string value, CompareResult result = CompareResult.Equal) =>
        new() { Key = B(key), Target = CompareTarget.Value, Result = result, Value = B(value) };

    public static List<MvccEvent> Events(this MvccStore store, long start, bool prevKv = false, string? key = null, string? rangeEnd = null, int eventsMax = int.MaxValue)
    {
        var events = new List<MvccEvent>();
        EventReadResult result = store.ReadEvents(new EventQuery(start, key is null ? null : B(key), rangeEnd is null ? null : B(rangeEnd), prevKv, eventsMax), events);
        Assert.Equal(MvccError.None, result.Error);
        return events;
    }
}
