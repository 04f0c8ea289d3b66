using System.Diagnostics;
using Parley.Mvcc;

namespace Parley.Benchmarks;

/// <summary>
/// The MvccExistingKeyBenchmarks / MvccPutBenchmarks / MvccRangeBenchmarks operations timed by the process's CPU
/// time as well as by the wall clock, over many short rounds with the operations interleaved, reporting medians.
/// On a shared 2-core VM other processes take the CPU away in the middle of a BenchmarkDotNet iteration, which
/// inflates wall-clock figures by 2-3x at random; CPU time only counts this process's work (cache interference from
/// neighbours remains). Use it to compare two builds run one after the other; it does not replace the
/// BenchmarkDotNet tables.
/// </summary>
internal static class MvccCpuReport
{
    private const int OperationsPerRound = 100_000;
    private const int RangesPerRound = 2_000;
    private const int RangeKeys = 100;

    public static void Run(int rounds, TextWriter output)
    {
        output.WriteLine($"rounds: {rounds} x {OperationsPerRound:N0} ops ({RangesPerRound:N0} for ranges); medians; ns per op; CPU = this process's user+system time");
        output.WriteLine($"{"store",-22} {"operation",-22} {"CPU ns/op",10} {"CPU min",10} {"wall ns/op",11} {"B/op",7}");
        foreach (int storeKeys in new[] { 100_000, 1_000_000 })
        {
            foreach (MvccKeyShape shape in new[] { MvccKeyShape.Random, MvccKeyShape.SharedPrefix })
            {
                RunStore(storeKeys, shape, rounds, output);
            }
        }
        RunNewKeys(rounds, output);
    }

    private static void RunStore(int storeKeys, MvccKeyShape shape, int rounds, TextWriter output)
    {
        var random = new Random(MvccWorkload.Seed);
        MvccStore store = MvccWorkload.Load(storeKeys, shape, random, out byte[][] sortedKeys);
        var operations = new (string Name, Func<Action> Prepare)[]
        {
            ("put existing key", () =>
            {
                PutRequest[] puts = ExistingKeyPuts(random, sortedKeys);
                return () => MvccWorkload.PutAll(store, puts);
            }),
            ("apply put existing", () =>
            {
                WriteCommand[] commands = ExistingKeyPuts(random, sortedKeys).Select(put => WriteCommand.Put(put)).ToArray();
                return () =>
                {
                    foreach (WriteCommand command in commands)
                    {
                        store.Apply(command);
                    }
                };
            }),
            ("get existing key", () =>
            {
                RangeRequest[] gets = Enumerable.Range(0, OperationsPerRound)
                    .Select(_ => new RangeRequest { Key = (byte[])sortedKeys[random.Next(sortedKeys.Length)].Clone() }).ToArray();
                return () =>
                {
                    foreach (RangeRequest get in gets)
                    {
                        MvccWorkload.Require(store.Range(get).Value!.Kvs.Count == 1, "a get finds its key");
                    }
                };
            }),
            ($"range of {RangeKeys} keys", () =>
            {
                RangeRequest[] ranges = Enumerable.Range(0, RangesPerRound).Select(_ =>
                {
                    int start = random.Next(sortedKeys.Length - RangeKeys);
                    return new RangeRequest { Key = (byte[])sortedKeys[start].Clone(), RangeEnd = (byte[])sortedKeys[start + RangeKeys].Clone() };
                }).ToArray();
                return () =>
                {
                    foreach (RangeRequest range in ranges)
                    {
                        MvccWorkload.Require(store.Range(range).Value!.Kvs.Count == RangeKeys, "a range returns RangeKeys keys");
                    }
                };
            }),
        };
        int[] counts = [OperationsPerRound, OperationsPerRound, OperationsPerRound, RangesPerRound];
        Report(output, $"{storeKeys:N0} {shape}", operations, counts, rounds);
        GC.KeepAlive(store);
    }

    private static void RunNewKeys(int rounds, TextWriter output)
    {
        var random = new Random(MvccWorkload.Seed);
        MvccStore store = MvccWorkload.Load(MvccWorkload.StoreKeysDefault, random, out _);
        var operations = new (string Name, Func<Action> Prepare)[]
        {
            ("put new key", () =>
            {
                PutRequest[] puts = Enumerable.Range(0, OperationsPerRound).Select(_ => MvccWorkload.NewPut(random)).ToArray();
                return () => MvccWorkload.PutAll(store, puts);
            }),
        };
        Report(output, "1,000,000+ Random", operations, [OperationsPerRound], rounds);
        GC.KeepAlive(store);
    }

    private static PutRequest[] ExistingKeyPuts(Random random, byte[][] sortedKeys)
    {
        var puts = new PutRequest[OperationsPerRound];
        for (int index = 0; index < puts.Length; index++)
        {
            var value = new byte[MvccWorkload.ValueBytes];
            random.NextBytes(value);
            puts[index] = new PutRequest { Key = (byte[])sortedKeys[random.Next(sortedKeys.Length)].Clone(), Value = value };
        }
        return puts;
    }

    /// <summary>Runs the operations round-robin (each round prepares its requests outside the measurement).</summary>
    private static void Report(TextWriter output, string storeLabel, (string Name, Func<Action> Prepare)[] operations, int[] counts, int rounds)
    {
        var cpu = operations.Select(_ => new List<double>()).ToArray();
        var wall = operations.Select(_ => new List<double>()).ToArray();
        var allocated = operations.Select(_ => new List<double>()).ToArray();
        using Process process = Process.GetCurrentProcess();
        for (int round = 0; round < rounds; round++)
        {
            for (int index = 0; index < operations.Length; index++)
            {
                Action run = operations[index].Prepare();
                GC.Collect();
                process.Refresh();
                TimeSpan cpuBefore = process.TotalProcessorTime;
                long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                long wallBefore = Stopwatch.GetTimestamp();
                run();
                TimeSpan wallTime = Stopwatch.GetElapsedTime(wallBefore);
                long allocatedBytes = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
                process.Refresh();
                TimeSpan cpuTime = process.TotalProcessorTime - cpuBefore;
                cpu[index].Add(cpuTime.TotalNanoseconds / counts[index]);
                wall[index].Add(wallTime.TotalNanoseconds / counts[index]);
                allocated[index].Add((double)allocatedBytes / counts[index]);
            }
        }
        for (int index = 0; index < operations.Length; index++)
        {
            output.WriteLine($"{storeLabel,-22} {operations[index].Name,-22} {Median(cpu[index]),10:F0} {cpu[index].Min(),10:F0} {Median(wall[index]),11:F0} {Median(allocated[index]),7:F0}");
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
