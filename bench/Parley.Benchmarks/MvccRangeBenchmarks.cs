using BenchmarkDotNet.Attributes;
using Parley.Mvcc;

namespace Parley.Benchmarks;

/// <summary>
/// Ranges of exactly RangeKeys keys ([key_i, key_{i+RangeKeys})) at random positions of a store of
/// StoreKeys random keys, on one thread. The memory diagnoser shows what one range allocates: it must be only the
/// result (a KeyValue per key, the list holding them, the response), nothing per key in the scan.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class MvccRangeBenchmarks
{
    private const int RequestCount = 4096; // a power of two: the benchmark cycles with a mask

    private MvccStore _store = null!;
    private RangeRequest[] _requests = [];
    private int _next;

    [Params(100, 1000)]
    public int RangeKeys { get; set; }

    [Params(100_000, 1_000_000)]
    public int StoreKeys { get; set; }

    [GlobalSetup]
    public void LoadStore()
    {
        var random = new Random(MvccWorkload.Seed);
        _store = MvccWorkload.Load(StoreKeys, random, out byte[][] sortedKeys);
        _requests = new RangeRequest[RequestCount];
        for (int index = 0; index < _requests.Length; index++)
        {
            int start = random.Next(sortedKeys.Length - RangeKeys);
            _requests[index] = new RangeRequest { Key = sortedKeys[start], RangeEnd = sortedKeys[start + RangeKeys] };
        }
        MvccWorkload.Require(_store.Range(_requests[0]).Value!.Kvs.Count == RangeKeys, "a range returns RangeKeys keys");
    }

    [Benchmark]
    public int Range()
    {
        RangeRequest request = _requests[_next++ & (RequestCount - 1)];
        return _store.Range(request).Value!.Kvs.Count;
    }
}
