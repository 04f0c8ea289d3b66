using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Parley.Mvcc;

namespace Parley.Benchmarks;

/// <summary>
/// Puts and gets of random existing keys of a store of StoreKeys keys, 100,000 per invocation, on one thread: the
/// apply path under `parley bench put` once its keys exist. Every request carries its own copy of the key, as a
/// deserialized request does, so the index compares bytes and never finds the stored array by reference. Puts
/// add a version each (nothing compacts here), so histories grow across iterations as they do in a cluster.
/// ApplyPutExistingKey goes through <see cref="MvccStore.Apply"/> as a member does (command, authorization,
/// outcome); the commands are made in the setup, as the member's decoder makes them.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class MvccExistingKeyBenchmarks
{
    private const int OperationsPerInvoke = 100_000;

    private readonly Random _random = new(MvccWorkload.Seed);
    private MvccStore _store = null!;
    private byte[][] _sortedKeys = [];
    private PutRequest[] _puts = [];
    private RangeRequest[] _gets = [];
    private WriteCommand[] _commands = [];

    [Params(100_000, 1_000_000)]
    public int StoreKeys { get; set; }

    [Params(MvccKeyShape.Random, MvccKeyShape.SharedPrefix)]
    public MvccKeyShape KeyShape { get; set; }

    [GlobalSetup]
    public void LoadStore()
    {
        _store = MvccWorkload.Load(StoreKeys, KeyShape, _random, out _sortedKeys);
    }

    [IterationSetup]
    public void MakeRequests()
    {
        _puts = new PutRequest[OperationsPerInvoke];
        _gets = new RangeRequest[OperationsPerInvoke];
        _commands = new WriteCommand[OperationsPerInvoke];
        for (int index = 0; index < OperationsPerInvoke; index++)
        {
            var value = new byte[MvccWorkload.ValueBytes];
            _random.NextBytes(value);
            _puts[index] = new PutRequest { Key = (byte[])_sortedKeys[_random.Next(_sortedKeys.Length)].Clone(), Value = value };
            _gets[index] = new RangeRequest { Key = (byte[])_sortedKeys[_random.Next(_sortedKeys.Length)].Clone() };
            _commands[index] = WriteCommand.Put(_puts[index]);
        }
    }

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public long PutExistingKey() => MvccWorkload.PutAll(_store, _puts);

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public long ApplyPutExistingKey()
    {
        foreach (WriteCommand command in _commands)
        {
            _store.Apply(command);
        }
        return _store.Revision;
    }

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public long GetExistingKey()
    {
        long found = 0;
        foreach (RangeRequest get in _gets)
        {
            found += _store.Range(get).Value!.Kvs.Count;
        }
        MvccWorkload.Require(found == _gets.Length, "every get finds its key");
        return found;
    }
}
