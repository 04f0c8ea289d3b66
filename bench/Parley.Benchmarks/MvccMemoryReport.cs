using System.Diagnostics;
using Parley.Mvcc;

namespace Parley.Benchmarks;

/// <summary>
/// Resident bytes per key: the managed heap after a full compacting collection, before and after
/// loading the store, divided by the key count. Measured twice: a store filled by puts (random
/// insertion order, B+tree leaves about 70% full) and the same state restored from its snapshot
/// (leaves packed full by the bulk rebuild).
/// </summary>
internal static class MvccMemoryReport
{
    public static void Run(int keyCount, TextWriter output)
    {
        output.WriteLine($"keys: {keyCount:N0} x ({MvccWorkload.KeyBytes} B key + {MvccWorkload.ValueBytes} B value); raw data {MvccWorkload.KeyBytes + MvccWorkload.ValueBytes} B/key");
        output.WriteLine($"GC: server={System.Runtime.GCSettings.IsServerGC}, latency={System.Runtime.GCSettings.LatencyMode}");

        long heapBefore = HeapBytes();
        long workingSetBefore = Environment.WorkingSet;
        var stopwatch = Stopwatch.StartNew();
        MvccStore store = LoadByPuts(keyCount);
        TimeSpan loadTime = stopwatch.Elapsed;
        long heapLoaded = HeapBytes();
        long workingSetLoaded = Environment.WorkingSet;
        Report(output, "filled by puts", keyCount, heapLoaded - heapBefore, workingSetLoaded - workingSetBefore);
        output.WriteLine($"  load: {loadTime.TotalSeconds:F2} s ({keyCount / loadTime.TotalSeconds:N0} puts/s, including request generation)");
        output.WriteLine($"  EstimatedStoredBytes: {store.EstimatedStoredBytes:N0} ({(double)store.EstimatedStoredBytes / keyCount:F1} B/key)");

        stopwatch.Restart();
        byte[] snapshot = store.Snapshot();
        TimeSpan snapshotTime = stopwatch.Elapsed;
        output.WriteLine($"  snapshot: {snapshot.Length:N0} bytes, written in {snapshotTime.TotalSeconds:F2} s");
        GC.KeepAlive(store);
        store = null!;

        long heapWithSnapshot = HeapBytes();
        stopwatch.Restart();
        MvccStore restored = MvccStore.Restore(snapshot).Value!;
        TimeSpan restoreTime = stopwatch.Elapsed;
        long heapRestored = HeapBytes();
        MvccWorkload.Require(restored.KeyCount == keyCount, "restored store holds every key");
        Report(output, "restored from snapshot", keyCount, heapRestored - heapWithSnapshot, null);
        output.WriteLine($"  restore: {restoreTime.TotalSeconds:F2} s (one cold run; see MvccSnapshotBenchmarks)");
        GC.KeepAlive(snapshot);
        GC.KeepAlive(restored);
    }

    private static MvccStore LoadByPuts(int keyCount)
    {
        var random = new Random(MvccWorkload.Seed);
        var store = new MvccStore();
        for (int index = 0; index < keyCount; index++)
        {
            MvccWorkload.Require(store.Put(MvccWorkload.NewPut(random)).IsSuccess, "put succeeds");
        }
        return store;
    }

    private static void Report(TextWriter output, string label, int keyCount, long heapBytes, long? workingSetBytes)
    {
        GCMemoryInfo info = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        output.WriteLine($"{label}:");
        output.WriteLine($"  managed heap: +{heapBytes:N0} bytes = {(double)heapBytes / keyCount:F1} B/key (GC.GetTotalMemory after a full compacting collection)");
        output.WriteLine($"  GC heap size {info.HeapSizeBytes:N0}, fragmented {info.FragmentedBytes:N0}, committed {info.TotalCommittedBytes:N0}");
        if (workingSetBytes is { } workingSet)
        {
            output.WriteLine($"  process working set: +{workingSet:N0} bytes = {(double)workingSet / keyCount:F1} B/key (includes GC reserve and runtime growth)");
        }
    }

    private static long HeapBytes()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
