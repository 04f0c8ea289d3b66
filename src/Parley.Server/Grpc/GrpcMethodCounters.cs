using System.Collections.Concurrent;
using Grpc.Core;

namespace Parley.Server.Grpc;

/// <summary>
/// grpc_server_started_total and grpc_server_handled_total of one gRPC method, counted by every call without a lock or a
/// lookup: the object is found once per call (<see cref="ServerMetrics.GrpcMethod"/>), then only incremented.
/// </summary>
internal sealed class GrpcMethodCounters
{
    // StatusCode's values are 0..16; a code outside them (never sent by Parley) is counted by its number's name.
    private const int KnownCodes = (int)StatusCode.Unauthenticated + 1;

    private readonly long[] _handled = new long[KnownCodes];
    private readonly ConcurrentDictionary<string, long> _handledOther = new(StringComparer.Ordinal);
    private long _started;

    public GrpcMethodCounters(string name, string type, bool listedFromStart)
    {
        Name = name;
        Type = type;
        ListedFromStart = listedFromStart;
    }

    /// <summary>The method as the metric labels name it: <c>service/method</c> (etcdserverpb.KV/Put).</summary>
    public string Name { get; }

    /// <summary>grpc_type: unary, client_stream, server_stream or bidi_stream.</summary>
    public string Type { get; }

    /// <summary>Shown at 0 (started, and handled with OK) before the first call, as go-grpc-prometheus initialises etcd's.</summary>
    public bool ListedFromStart { get; }

    public long StartedCount => Volatile.Read(ref _started);

    public void Started() => Interlocked.Increment(ref _started);

    public void Handled(StatusCode code)
    {
        if ((uint)code < KnownCodes)
        {
            Interlocked.Increment(ref _handled[(int)code]);
        }
        else
        {
            _handledOther.AddOrUpdate(CodeName(code), 1, (_, total) => total + 1);
        }
    }

    /// <summary>Each code this method was answered with (and OK when listed from the start) with its count.</summary>
    public List<(string Code, long Count)> HandledCounts()
    {
        var counts = new List<(string Code, long Count)>();
        for (var code = 0; code < KnownCodes; code++)
        {
            var count = Volatile.Read(ref _handled[code]);
            if (count > 0 || (code == (int)StatusCode.OK && ListedFromStart))
            {
                counts.Add((CodeName((StatusCode)code), count));
            }
        }
        foreach (var (code, count) in _handledOther)
        {
            counts.Add((code, count));
        }
        counts.Sort((left, right) => string.CompareOrdinal(left.Code, right.Code));
        return counts;
    }

    /// <summary>A status code in Go's spelling, as etcd's labels have it: the only name that differs is Canceled (.NET: Cancelled).</summary>
    public static string CodeName(StatusCode code) => code == StatusCode.Cancelled ? "Canceled" : code.ToString();
}
