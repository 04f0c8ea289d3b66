using System.Xml.Linq;
using Parley.Bench.Comparison;

namespace Parley.Bench.Tests;

public sealed class CompareReportingTests
{
    [Fact]
    public void Ratios_AreParleyOverEtcd_AndCpuIsPerThousandOperations()
    {
        var comparison = Comparison("put", 64, etcdOps: 10_000, parleyOps: 30_000, etcdP99: 20, parleyP99: 10, etcdCpu: 4, parleyCpu: 1);
        Assert.Equal(3, comparison.Ratios.Throughput);
        Assert.Equal(0.5, comparison.Ratios.P99);
        // etcd 4 CPU s for 100,000 ops = 0.04 s per 1k; Parley 1 s for 300,000 = 0.0033 s per 1k
        Assert.Equal(0.04, comparison.Etcd.CpuSecondsPer1000Operations);
        Assert.Equal(0.0033, comparison.Parley.CpuSecondsPer1000Operations);
        Assert.Equal(0.083, comparison.Ratios.CpuPer1000Operations!.Value, 0.002);
    }

    [Fact]
    public void Targets_AreMetOnlyWhenTheMeasurementsSaySo()
    {
        var options = new CompareOptions { Clients = 64 };
        var result = NewResult();
        result.Workloads.Add(Comparison("put", 64, etcdOps: 10_000, parleyOps: 31_000, etcdP99: 20, parleyP99: 25, etcdCpu: 9, parleyCpu: 2));
        result.Workloads.Add(Comparison("get", 64, etcdOps: 10_000, parleyOps: 19_000, etcdP99: 5, parleyP99: 5, etcdCpu: 1, parleyCpu: 1));
        result.Sweep.Add(Comparison("put", 1, etcdOps: 100, parleyOps: 100, etcdP99: 2, parleyP99: 2, etcdCpu: 1, parleyCpu: 1, parleyP50: 0.55));
        result.Memory = new MemoryComparison(1_000_000, 256, new MemoryRun(10, 0, 0, 900, 1.5, null), new MemoryRun(10, 0, 0, 600, 6.2, null));
        var targets = TargetEvaluator.Evaluate(result, options).ToDictionary(target => target.Name, target => target.Met);
        Assert.True(targets["issue 5: put throughput >= etcd's"]);
        Assert.True(targets["put throughput >= 3x etcd's"]);
        Assert.False(targets["put p99 <= etcd's"]);
        Assert.False(targets["linearizable get throughput >= 2x etcd's"]);
        Assert.Null(targets["serializable get throughput >= 2x etcd's"]);
        Assert.True(targets["server CPU per put <= 1/3 of etcd's"]);
        Assert.True(targets["one client: put p50 <= 0.6 ms"]);
        Assert.True(targets["resident memory per key (1,000,000 keys) <= etcd's"]);
        Assert.False(targets["restart with 1,000,000 keys: serves within 5 s"]);
    }

    [Fact]
    public void NothingMeasured_MeetsNothing() =>
        Assert.All(TargetEvaluator.Evaluate(NewResult(), new CompareOptions()), target => Assert.Null(target.Met));

    [Fact]
    public void Chart_IsSvg_WithOneLinePerServerInEachPanel()
    {
        List<WorkloadComparison> sweep =
        [
            Comparison("put", 1, 500, 700, 3, 2, 1, 1),
            Comparison("put", 8, 3_000, 5_000, 6, 4, 1, 1),
            Comparison("put", 64, 9_000, 20_000, 30, 12, 1, 1),
        ];
        var svg = XDocument.Parse(SvgChart.Render(sweep, "put <etcd & Parley>"));
        XNamespace ns = "http://www.w3.org/2000/svg";
        var lines = svg.Descendants(ns + "polyline").ToList();
        Assert.Equal(4, lines.Count);
        Assert.All(lines, line => Assert.Equal(3, line.Attribute("points")!.Value.Split(' ').Length));
        Assert.Equal(12, svg.Descendants(ns + "circle").Count());
        Assert.Contains(svg.Descendants(ns + "text"), text => text.Value == "put <etcd & Parley>");
        Assert.Contains(svg.Descendants(ns + "text"), text => text.Value == "64");
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(0.7, 1)]
    [InlineData(1, 1)]
    [InlineData(1.1, 2)]
    [InlineData(3, 5)]
    [InlineData(7_300, 10_000)]
    [InlineData(12_000, 20_000)]
    public void ChartAxes_EndAtOneTwoOrFiveTimesAPowerOfTen(double value, double expected) =>
        Assert.Equal(expected, SvgChart.NiceMaximum(value), 9);

    private static CompareResult NewResult() => new()
    {
        StartedUtc = "2026-01-01T00:00:00Z",
        Command = "parley bench compare",
        Machine = new MachineInfo(2, "0 0 0", null, ".NET"),
        Members = 3,
    };

    private static WorkloadComparison Comparison(string workload, int clients, double etcdOps, double parleyOps, double etcdP99, double parleyP99,
        double etcdCpu, double parleyCpu, double parleyP50 = 1) =>
        new(workload, clients,
            new ServerRun(BenchResults.Result(workload, clients, etcdOps, 1, etcdP99), etcdCpu, 1, 100),
            new ServerRun(BenchResults.Result(workload, clients, parleyOps, parleyP50, parleyP99), parleyCpu, 1, 100));
}
