using System.Globalization;

namespace Parley.Bench.Comparison;

/// <summary>
/// The performance targets of issues 5 and 8, checked against one compare run. A target whose measurement is
/// missing from the run (workload not selected, no memory phase) is listed with Met = null, never as met.
/// </summary>
public static class TargetEvaluator
{
    public const double OneClientPutP50MsMax = 0.6;
    public const double RestartSecondsMax = 5;

    public static IEnumerable<TargetCheck> Evaluate(CompareResult result, CompareOptions options)
    {
        var put = Find(result.Workloads, "put", options.Clients);
        yield return Ratio("issue 5: put throughput >= etcd's", put, ">= 1x etcd", run => run.Result.ThroughputPerSecond, minimumRatio: 1, ops: true);
        yield return Ratio("put throughput >= 3x etcd's", put, ">= 3x etcd", run => run.Result.ThroughputPerSecond, minimumRatio: 3, ops: true);
        yield return Ratio("put p99 <= etcd's", put, "<= 1x etcd", run => run.Result.Latency.P99Ms, maximumRatio: 1);
        yield return Ratio("linearizable get throughput >= 2x etcd's", Find(result.Workloads, "get", options.Clients), ">= 2x etcd", run => run.Result.ThroughputPerSecond, minimumRatio: 2, ops: true);
        yield return Ratio("serializable get throughput >= 2x etcd's", Find(result.Workloads, "get-serializable", options.Clients), ">= 2x etcd", run => run.Result.ThroughputPerSecond, minimumRatio: 2, ops: true);
        yield return Ratio("server CPU per put <= 1/3 of etcd's", put, "<= 0.333x etcd", run => run.CpuSecondsPer1000Operations, maximumRatio: 1.0 / 3);
        var single = Find(result.Sweep, "put", 1) ?? Find(result.Workloads, "put", 1);
        yield return single is null
            ? new TargetCheck("one client: put p50 <= 0.6 ms", "<= 0.6 ms", "not measured", "not measured", null)
            : new TargetCheck("one client: put p50 <= 0.6 ms", "<= 0.6 ms", Ms(single.Etcd.Result.Latency.P50Ms), Ms(single.Parley.Result.Latency.P50Ms),
                single.Parley.Result.Operations > 0 && single.Parley.Result.Latency.P50Ms <= OneClientPutP50MsMax);
        var memory = result.Memory;
        if (memory is null)
        {
            yield return new TargetCheck("resident memory per key <= etcd's", "<= 1x etcd", "not measured", "not measured", null);
            yield return new TargetCheck("restart with the memory keys: serves within 5 s", "<= 5 s", "not measured", "not measured", null);
            yield break;
        }
        yield return new TargetCheck($"resident memory per key ({memory.Keys:#,0} keys) <= etcd's", "<= 1x etcd",
            Bytes(memory.Etcd.BytesPerKeyPerMember), Bytes(memory.Parley.BytesPerKeyPerMember),
            memory.Parley.BytesPerKeyPerMember <= memory.Etcd.BytesPerKeyPerMember);
        yield return new TargetCheck($"restart with {memory.Keys:#,0} keys: serves within 5 s", "<= 5 s",
            Seconds(memory.Etcd), Seconds(memory.Parley),
            memory.Parley.RestartSeconds is { } seconds ? seconds <= RestartSecondsMax : false);
    }

    private static WorkloadComparison? Find(IEnumerable<WorkloadComparison> runs, string workload, int clients) =>
        runs.FirstOrDefault(run => run.Workload == workload && run.Clients == clients);

    private static TargetCheck Ratio(string name, WorkloadComparison? run, string requirement, Func<ServerRun, double?> measure,
        double? minimumRatio = null, double? maximumRatio = null, bool ops = false)
    {
        if (run is null)
        {
            return new TargetCheck(name, requirement, "not measured", "not measured", null);
        }
        var etcd = measure(run.Etcd);
        var parley = measure(run.Parley);
        var ratio = WorkloadComparison.Ratio(parley, etcd);
        bool? met = ratio is { } r && run.Parley.Result.Operations > 0
            ? (minimumRatio is not { } min || r >= min) && (maximumRatio is not { } max || r <= max)
            : null;
        string Format(double? value) => value is { } v ? (ops ? v.ToString("#,0", CultureInfo.InvariantCulture) : v.ToString("0.####", CultureInfo.InvariantCulture)) : "n/a";
        var ratioText = ratio is { } x ? x.ToString("0.###", CultureInfo.InvariantCulture) + "x" : "n/a";
        return new TargetCheck(name, requirement, Format(etcd), $"{Format(parley)} ({ratioText})", met);
    }

    private static string Ms(double value) => value.ToString("0.###", CultureInfo.InvariantCulture) + " ms";

    private static string Bytes(double value) => value.ToString("#,0", CultureInfo.InvariantCulture) + " B";

    private static string Seconds(MemoryRun run) =>
        run.RestartSeconds is { } seconds ? seconds.ToString("0.00", CultureInfo.InvariantCulture) + " s" : "failed: " + run.RestartError;
}
