using System.Globalization;
using Spectre.Console;

namespace Parley.Bench;

/// <summary>The human-readable form of one run's result.</summary>
public static class ResultTable
{
    public static Table Build(BenchResult result)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"parley bench {result.Workload}");
        table.AddColumn("measure");
        table.AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("endpoints", string.Join(",", result.Endpoints));
        Row("clients / connections", $"{result.Clients} / {result.Connections}");
        Row("keys / key bytes / value bytes", $"{result.KeyCount} / {result.KeySizeBytes} / {result.ValueSizeBytes}");
        if (result.ReadRatio is { } ratio)
        {
            Row("read ratio", ratio.ToString("0.##", CultureInfo.InvariantCulture));
        }
        Row("mode", result.TargetRatePerSecond is { } rate ? $"open loop, target {Number(rate)} ops/s" : "closed loop");
        Row("elapsed", $"{result.ElapsedSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s{(result.Cancelled ? " (stopped early)" : "")}");
        Row("operations", Number(result.Operations));
        Row("errors", Number(result.Errors));
        Row("throughput", $"{Number(result.ThroughputPerSecond)} ops/s");
        if (result.TxnSucceeded is { } succeeded)
        {
            Row("txn succeeded / failed", $"{Number(succeeded)} / {Number(result.TxnFailed ?? 0)}");
        }
        var latencyName = result.TargetRatePerSecond is null ? "latency" : "latency from intended send";
        AddLatency(table, latencyName, result.Latency);
        if (result.ServiceTime is { } service)
        {
            AddLatency(table, "service time", service);
        }
        if (result.KeepAlives is { } keepAlives)
        {
            Row("leases / keep-alives answered", $"{Number(result.Leases ?? 0)} / {Number(keepAlives)}");
        }
        if (result.Watch is { } watch)
        {
            Row("watchers", Number(watch.Watchers));
            Row("watch events received / expected", $"{Number(watch.EventsReceived)} / {Number(watch.EventsExpected)}");
            Row("watch events per second", Number(watch.EventsPerSecond));
            AddLatency(table, "event delivery (put sent to event received)", watch.DeliveryLatency);
            Row("watcher errors", Number(watch.WatcherErrors));
        }
        foreach (var (kind, count) in result.ErrorKinds)
        {
            Row("error", $"{Number(count)} x {kind}");
        }
        return table;
    }

    private static void AddLatency(Table table, string name, LatencySummary latency)
    {
        table.AddRow(Markup.Escape(name + " p50 / p90 / p99"), Markup.Escape($"{Ms(latency.P50Ms)} / {Ms(latency.P90Ms)} / {Ms(latency.P99Ms)} ms"));
        table.AddRow(Markup.Escape(name + " p99.9 / max / mean"), Markup.Escape($"{Ms(latency.P999Ms)} / {Ms(latency.MaxMs)} / {Ms(latency.MeanMs)} ms"));
    }

    public static string Ms(double milliseconds) => milliseconds.ToString("0.###", CultureInfo.InvariantCulture);

    public static string Number(double value) => value.ToString("#,0", CultureInfo.InvariantCulture);
}
