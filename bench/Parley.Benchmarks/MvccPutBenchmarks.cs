using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Parley.Mvcc;

namespace Parley.Benchmarks;

/// <summary>
/// Puts of new keys on one thread: 100,000 per invocation, each with its own freshly allocated 16 B
/// key and 256 B value (made in the iteration setup, outside the measurement, as the deserializer
/// would). PreloadedKeys 0 starts each iteration on an empty store; 1,000,000 puts into a 1M-key
/// store (which grows by 100k keys per iteration).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class MvccPutBenchmarks
{
    private const int PutsPerInvoke = 100_000;

    private readonly Random _random = new(MvccWorkload.Seed);
    private MvccStore _store = null!;
    private PutRequest[] _puts = [];

    [Params(0, 1_000_000)]
    public int PreloadedKeys { get; set; }

    [GlobalSetup]
    public void LoadStore()
    {
        _store = MvccWorkload.Load(PreloadedKeys, _random, out _);
    }

    [IterationSetup]
    public void MakePuts()
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

    [Benchmark(OperationsPerInvoke = PutsPerInvoke)]
    public long PutNewKey() => MvccWorkload.PutAll(_store, _puts);
}
