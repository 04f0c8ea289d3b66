using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Parley.Mvcc;

namespace Parley.Benchmarks;

/// <summary>
/// Puts on one thread: 100,000 per invocation, each with its own freshly allocated 16 B key and
/// 256 B value (made in the iteration setup, outside the measurement, as the deserializer would).
/// PreloadedKeys 0 starts each iteration on an empty store; 1,000,000 puts new keys into a 1M-key
/// store (which grows by 100k per iteration), or overwrites existing keys (a new version each).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class MvccPutBenchmarks
{
    private const int PutsPerInvoke = 100_000;

    private readonly Random _random = new(MvccWorkload.Seed);
    private MvccStore _store = null!;
    private byte[][] _sortedKeys = [];
    private PutRequest[] _puts = [];

    [Params(0, 1_000_000)]
    public int PreloadedKeys { get; set; }

    [GlobalSetup]
    public void LoadStore()
    {
        _store = MvccWorkload.Load(PreloadedKeys, _random, out _sortedKeys);
    }

    [IterationSetup(Target = nameof(PutNewKey))]
    public void MakeNewKeyPuts()
    {
        if (PreloadedKeys == 0)
        {
            _store = new MvccStore();
        }
        _puts = new PutRequest[PutsPerInvoke];
        for (int index = 0; index < _puts.Length; index++)
        {
            _puts[index] = MvccWorkload.NewPut(_random);
        }
    }

    [IterationSetup(Target = nameof(PutExistingKey))]
    public void MakeExistingKeyPuts()
    {
        _puts = new PutRequest[PutsPerInvoke];
        for (int index = 0; index < _puts.Length; index++)
        {
            byte[] key = _sortedKeys.Length > 0 ? _sortedKeys[_random.Next(_sortedKeys.Length)] : MvccWorkload.NewPut(_random).Key;
            var value = new byte[MvccWorkload.ValueBytes];
            _random.NextBytes(value);
            _puts[index] = new PutRequest { Key = key, Value = value };
        }
    }

    [Benchmark(OperationsPerInvoke = PutsPerInvoke)]
    public long PutNewKey() => PutAll();

    [Benchmark(OperationsPerInvoke = PutsPerInvoke)]
    public long PutExistingKey() => PutAll();

    private long PutAll()
    {
        foreach (PutRequest put in _puts)
        {
            _store.Put(put);
        }
        return _store.Revision;
    }
}
