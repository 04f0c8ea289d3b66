using System.Buffers;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Parley.Mvcc;

namespace Parley.Benchmarks;

/// <summary>Snapshot of a 1M-key store (16 B keys, 256 B values): restore from bytes, and write.</summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class MvccSnapshotBenchmarks
{
    private MvccStore _store = null!;
    private byte[] _snapshot = [];
    private readonly ArrayBufferWriter<byte> _output = new();

    [GlobalSetup]
    public void LoadStore()
    {
        _store = MvccWorkload.Load(MvccWorkload.StoreKeysDefault, new Random(MvccWorkload.Seed), out _);
        _snapshot = _store.Snapshot();
    }

    [Benchmark]
    public long Restore1MKeys() => MvccStore.Restore(_snapshot).Value!.KeyCount;

    [Benchmark]
    public int Write1MKeys()
    {
        _output.ResetWrittenCount();
        _store.WriteSnapshot(_output);
        return _output.WrittenCount;
    }
}
