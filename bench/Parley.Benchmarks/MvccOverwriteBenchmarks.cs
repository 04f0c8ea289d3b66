using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Parley.Mvcc;

namespace Parley.Benchmarks;

/// <summary>
/// Puts that overwrite random keys of a 1M-key store, 100,000 per invocation, each with a freshly
/// allocated 256 B value: every put adds a version, so histories grow across iterations (nothing
/// compacts them here).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class MvccOverwriteBenchmarks
{
    private const int PutsPerInvoke = 100_000;

    private readonly Random _random = new(MvccWorkload.Seed);
    private MvccStore _store = null!;
    private byte[][] _sortedKeys = [];
    private PutRequest[] _puts = [];

    [GlobalSetup]
    public void LoadStore()
    {
        _store = MvccWorkload.Load(MvccWorkload.StoreKeysDefault, _random, out _sortedKeys);
    }

    [IterationSetup]
    public void MakePuts()
    {
        _puts = new PutRequest[PutsPerInvoke];
        for (int index = 0; index < _puts.Length; index++)
        {
            var value = new byte[MvccWorkload.ValueBytes];
            _random.NextBytes(value);
            _puts[index] = new PutRequest { Key = _sortedKeys[_random.Next(_sortedKeys.Length)], Value = value };
        }
    }

    [Benchmark(OperationsPerInvoke = PutsPerInvoke)]
    public long PutExistingKey() => MvccWorkload.PutAll(_store, _puts);
}
