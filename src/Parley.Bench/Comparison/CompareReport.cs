using System.Globalization;
using Spectre.Console;

namespace Parley.Bench.Comparison;

/// <summary>The compare result as terminal tables: per-workload ratios, the sweep, memory, and the targets.</summary>
public static class CompareReport
{
    public static IEnumerable<Table> Build(CompareResult result)
    {
        if (result.Workloads.Count > 0)
        {
            yield return Comparison("workloads (Parley ÷ etcd: throughput above 1 is better, the rest below 1)", result.Workloads);
        }
        var watches = result.Workloads.Where(run => run.Etcd.Result.Watch is not null && run.Parley.Result.Watch is not null).ToList();
        if (watches.Count > 0)
        {
            var table = new Table().Border(TableBorder.Rounded).Title("watch fan-out (events delivered; delivery = put sent to event received)");
            table.AddColumns("watchers", "puts/s", "events/s e/p", "ratio", "received/expected e", "received/expected p", "delivery p50 ms e/p", "delivery p99 ms e/p", "ratio p99");
            foreach (var run in watches)
            {
                var etcd = run.Etcd.Result.Watch!;
                var parley = run.Parley.Result.Watch!;
                table.AddRow(
                    etcd.Watchers.ToString(CultureInfo.InvariantCulture),
                    $"{F(run.Etcd.Result.ThroughputPerSecond, "#,0")} / {F(run.Parley.Result.ThroughputPerSecond, "#,0")}",
                    $"{F(etcd.EventsPerSecond, "#,0")} / {F(parley.EventsPerSecond, "#,0")}",
                    R(WorkloadComparison.Ratio(parley.EventsPerSecond, etcd.EventsPerSecond)),
                    $"{etcd.EventsReceived:#,0}/{etcd.EventsExpected:#,0}",
                    $"{parley.EventsReceived:#,0}/{parley.EventsExpected:#,0}",
                    $"{F(etcd.DeliveryLatency.P50Ms, "0.###")} / {F(parley.DeliveryLatency.P50Ms, "0.###")}",
                    $"{F(etcd.DeliveryLatency.P99Ms, "0.###")} / {F(parley.DeliveryLatency.P99Ms, "0.###")}",
                    R(WorkloadComparison.Ratio(parley.DeliveryLatency.P99Ms, etcd.DeliveryLatency.P99Ms)));
            }
            yield return table;
        }
        if (result.Sweep.Count > 0)
        {
            yield return Comparison("put against client count (compare.svg)", result.Sweep);
        }
        if (result.Memory is { } memory)
        {
            var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"memory and restart ({memory.Keys:#,0} keys of {memory.ValueSizeBytes} B)"));
            table.AddColumns("server", "load s", "resident before (MiB, all members)", "after", "bytes per key per member", "restart until it serves");
            foreach (var (name, run) in new[] { ("etcd", memory.Etcd), ("parley", memory.Parley) })
            {
                table.AddRow(name, F(run.LoadSeconds, "0.0"), F(run.ResidentBytesBefore / 1048576.0, "0"), F(run.ResidentBytesAfter / 1048576.0, "0"),
                    F(run.BytesPerKeyPerMember, "0"), Markup.Escape(run.RestartSeconds is { } s ? F(s, "0.00") + " s" : "failed: " + run.RestartError));
            }
            yield return table;
        }
        var targets = new Table().Border(TableBorder.Rounded).Title("targets (issue 5 floor, issue 8)");
        targets.AddColumns("target", "requirement", "etcd", "parley (ratio)", "met");
        foreach (var target in result.Targets)
        {
            var met = target.Met switch { true => "[green]yes[/]", false => "[red]no[/]", null => "not measured" };
            targets.AddRow(Markup.Escape(target.Name), Markup.Escape(target.Requirement), Markup.Escape(target.Etcd), Markup.Escape(target.Parley), met);
        }
        yield return targets;
    }

    private static Table Comparison(string title, IEnumerable<WorkloadComparison> runs)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title));
        table.AddColumns("workload", "clients", "etcd ops/s", "parley ops/s", "ratio", "p50 ms e/p", "ratio", "p99 ms e/p", "ratio", "CPU s/1k ops e/p", "ratio", "peak RSS MiB e/p", "errors e/p", "warm-up s e/p");
        foreach (var run in runs)
        {
            var ratios = run.Ratios;
            table.AddRow(
                run.Workload,
                run.Clients.ToString(CultureInfo.InvariantCulture),
                F(run.Etcd.Result.ThroughputPerSecond, "#,0"),
                F(run.Parley.Result.ThroughputPerSecond, "#,0"),
                R(ratios.Throughput),
                $"{F(run.Etcd.Result.Latency.P50Ms, "0.###")} / {F(run.Parley.Result.Latency.P50Ms, "0.###")}",
                R(ratios.P50),
                $"{F(run.Etcd.Result.Latency.P99Ms, "0.###")} / {F(run.Parley.Result.Latency.P99Ms, "0.###")}",
                R(ratios.P99),
                $"{F(run.Etcd.CpuSecondsPer1000Operations, "0.###")} / {F(run.Parley.CpuSecondsPer1000Operations, "0.###")}",
                R(ratios.CpuPer1000Operations),
                $"{F(run.Etcd.PeakResidentBytes / 1048576.0, "0")} / {F(run.Parley.PeakResidentBytes / 1048576.0, "0")}",
                $"{run.Etcd.Result.Errors} / {run.Parley.Result.Errors}",
                $"{F(run.Etcd.Result.WarmupSeconds, "0")} / {F(run.Parley.Result.WarmupSeconds, "0")}");
        }
        return table;
    }

    private static string F(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    private static string R(double? ratio) => ratio is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "n/a";
}
