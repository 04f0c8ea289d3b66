using BenchmarkDotNet.Running;
using Parley.Benchmarks;

// `memory [keys]` prints resident bytes per key (a heap measurement, not a timing, so it runs
// outside BenchmarkDotNet); `cpu [rounds]` times the MVCC operations by CPU time (for A/B runs on a
// busy machine); anything else goes to BenchmarkDotNet's switcher, e.g.
// `--filter '*MvccRange*'`.
if (args.Length > 0 && args[0] == "memory")
{
    int keyCount = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : MvccWorkload.StoreKeysDefault;
    MvccMemoryReport.Run(keyCount, Console.Out);
    return 0;
}
if (args.Length > 0 && args[0] == "cpu")
{
    int rounds = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 15;
    MvccCpuReport.Run(rounds, Console.Out);
    return 0;
}
BenchmarkSwitcher.FromAssembly(typeof(MvccWorkload).Assembly).Run(args);
return 0;
