using Parley.Bench.Comparison;

namespace Parley.Bench.Tests;

public sealed class CompareOptionsParserTests
{
    [Fact]
    public void Defaults_CoverEveryWorkload_AndSweepTheChartsClientCounts()
    {
        var options = CompareOptionsParser.Parse();
        Assert.Equal(3, options.Members);
        Assert.Equal(WorkloadNames.All.Count(), options.Workloads.Count);
        Assert.Equal(64, options.Clients);
        Assert.Equal([1, 8, 64, 256], options.Sweep);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Duration);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Warmup);
        Assert.Equal(TimeSpan.FromSeconds(60), options.WarmupMaximum);
        Assert.True(options.AdaptiveWarmup);
        Assert.Equal(0, options.MemoryKeys);
        Assert.Equal(TimeSpan.FromMinutes(30), options.TimeLimit);
        Assert.Equal(8, options.ConnectionsFor(64));
        Assert.Equal(1, options.ConnectionsFor(1));
        Assert.False(options.TargetLeader);
    }

    [Fact]
    public void TargetLeader_IsBound() => Assert.True(CompareOptionsParser.Parse("--target-leader").TargetLeader);

    [Fact]
    public void Options_AreBound_AndTheSweepSorted()
    {
        var options = CompareOptionsParser.Parse("--members", "1", "--workloads", "put, get-serializable", "--clients", "16", "--sweep", "64,1,8",
            "--duration", "3s", "--memory-keys", "1000000", "--time-limit", "5m", "--out", "d", "--connections", "2");
        Assert.Equal(1, options.Members);
        Assert.Equal([Workload.Put, Workload.GetSerializable], options.Workloads);
        Assert.Equal(16, options.Clients);
        Assert.Equal([1, 8, 64], options.Sweep);
        Assert.Equal(TimeSpan.FromSeconds(3), options.Duration);
        Assert.Equal(1_000_000, options.MemoryKeys);
        Assert.Equal(TimeSpan.FromMinutes(5), options.TimeLimit);
        Assert.Equal("d", options.OutputDirectory);
        Assert.Equal(2, options.ConnectionsFor(16));
        var bench = options.BenchOptionsFor(Workload.Put, 16, ["127.0.0.1:1"]);
        Assert.Equal(2, bench.Connections);
        Assert.False(bench.Preload);
    }

    [Fact]
    public void WarmupZero_MeansNone()
    {
        var options = CompareOptionsParser.Parse("--warmup", "0");
        Assert.Equal(TimeSpan.Zero, options.Warmup);
        Assert.False(options.AdaptiveWarmup);
    }

    [Fact]
    public void WarmupDuration_IsFixed()
    {
        var options = CompareOptionsParser.Parse("--warmup", "15s");
        Assert.Equal(TimeSpan.FromSeconds(15), options.Warmup);
        Assert.Equal(TimeSpan.FromSeconds(15), options.WarmupMaximum);
        Assert.False(options.AdaptiveWarmup);
    }

    [Fact]
    public void SweepNone_IsEmpty() => Assert.Empty(CompareOptionsParser.Parse("--sweep", "none").Sweep);

    [Theory]
    [InlineData("--members must be 1, 3 or 5", "--members", "2")]
    [InlineData("unknown workload 'scan'", "--workloads", "put,scan")]
    [InlineData("'put' listed twice", "--workloads", "put,put")]
    [InlineData("--sweep: 'x' is not a client count", "--sweep", "1,x")]
    [InlineData("nothing to compare", "--workloads", "", "--sweep", "none")]
    [InlineData("--time-limit 'never' is not a duration", "--time-limit", "never")]
    [InlineData("--warmup 'soon' is not 'auto' or a duration", "--warmup", "soon")]
    public void BadOptions_AreRefused(string expected, params string[] args)
    {
        var exception = Assert.Throws<BenchOptionsException>(() => CompareOptionsParser.Parse(args));
        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
    }
}
