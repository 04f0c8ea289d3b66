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

    /// <summary>What a member does for its periodic snapshot: capture, measure, stream out a 1 MiB buffer at a time.</summary>
    [Benchmark]
    public long FreezeMeasureStream1MKeys()
    {
        var frozen = _store.FreezeSnapshot();
        var sink = new ChunkSink();
        frozen.WriteTo(sink);
        return frozen.Length + sink.Written;
    }

    /// <summary>Hands out one reused 1 MiB buffer, as the snapshot file writer does, and drops what is written.</summary>
    private sealed class ChunkSink : IBufferWriter<byte>
    {
        private readonly byte[] _buffer = new byte[1 << 20];
        private int _used;

        public long Written { get; private set; }

        public void Advance(int count)
        {
            _used += count;
            Written += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            if (_buffer.Length - _used < Math.Max(sizeHint, 1))
            {
                _used = 0;
            }
            return _buffer.AsMemory(_used);
        }

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
    }
}
