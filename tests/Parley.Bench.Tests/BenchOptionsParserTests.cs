using Parley.Bench.Comparison;

namespace Parley.Bench.Tests;

public sealed class BenchOptionsParserTests
{
    [Fact]
    public void GrpcClient_IsLeanOrGrpcNet_AndAnythingElseIsRefused()
    {
        Assert.Equal(GrpcClientKind.GrpcNet, BenchOptionsParser.Parse("--grpc-client", "grpc-net").GrpcClient);
        Assert.Equal(GrpcClientKind.Lean, BenchOptionsParser.Parse("--grpc-client", "LEAN").GrpcClient);
        var error = Assert.Throws<BenchOptionsException>(() => BenchOptionsParser.Parse("--grpc-client", "grpc-go"));
        Assert.Equal("--grpc-client must be lean or grpc-net (got 'grpc-go')", error.Message);
        Assert.Equal(GrpcClientKind.GrpcNet, CompareOptionsParser.Parse("--grpc-client", "grpc-net").BenchOptionsFor(Workload.Put, 4, ["127.0.0.1:2379"]).GrpcClient);
    }

    [Fact]
    public void Defaults_ArePut_64Clients_8Connections_10Seconds_ClosedLoop()
    {
        var options = BenchOptionsParser.Parse();
        Assert.Equal(Workload.Put, options.Workload);
        Assert.Equal(["127.0.0.1:2379"], options.Endpoints);
        Assert.Equal(64, options.Clients);
        Assert.Equal(8, options.Connections);
        Assert.Equal(GrpcClientKind.Lean, options.GrpcClient);
        Assert.Equal(100_000, options.KeyCount);
        Assert.Equal(16, options.KeySizeBytes);
        Assert.Equal(256, options.ValueSizeBytes);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Duration);
        Assert.Null(options.TotalOperations);
        Assert.Equal(TimeSpan.Zero, options.Warmup);
        Assert.Null(options.TargetRatePerSecond);
        Assert.True(options.Preload);
        Assert.Equal(OutputFormat.Table, options.Output);
    }

    [Fact]
    public void EveryOption_IsBound()
    {
        var options = BenchOptionsParser.Parse(
            "range-1000", "--endpoints", "http://127.0.0.1:1,127.0.0.1:2", "--endpoints", "localhost:3", "--clients", "32", "--conns", "4",
            "--key-count", "5000", "--key-size", "10", "--val-size", "100", "--duration", "1.5m", "--warmup", "3s", "--total", "999", "--rate", "2500.5",
            "--read-ratio", "0.25", "--no-preload", "--timeout", "250ms", "--seed", "7", "--json", "out.json", "-o", "json", "--no-progress");
        Assert.Equal(Workload.Range1000, options.Workload);
        Assert.Equal(["127.0.0.1:1", "127.0.0.1:2", "localhost:3"], options.Endpoints);
        Assert.Equal(32, options.Clients);
        Assert.Equal(4, options.Connections);
        Assert.Equal(5000, options.KeyCount);
        Assert.Equal(10, options.KeySizeBytes);
        Assert.Equal(100, options.ValueSizeBytes);
        Assert.Equal(TimeSpan.FromSeconds(90), options.Duration);
        Assert.Equal(999, options.TotalOperations);
        Assert.Equal(TimeSpan.FromSeconds(3), options.Warmup);
        Assert.Equal(2500.5, options.TargetRatePerSecond);
        Assert.Equal(0.25, options.ReadRatio);
        Assert.False(options.Preload);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.RequestTimeout);
        Assert.Equal(7, options.Seed);
        Assert.Equal("out.json", options.JsonPath);
        Assert.Equal(OutputFormat.Json, options.Output);
        Assert.False(options.Progress);
    }

    [Theory]
    [InlineData("put", Workload.Put)]
    [InlineData("get", Workload.Get)]
    [InlineData("GET-SERIALIZABLE", Workload.GetSerializable)]
    [InlineData("range-100", Workload.Range100)]
    [InlineData("txn-cas", Workload.TxnCas)]
    [InlineData("mixed", Workload.Mixed)]
    [InlineData("watch", Workload.Watch)]
    [InlineData("lease-keepalive", Workload.LeaseKeepAlive)]
    public void WorkloadNames_Parse(string name, Workload expected) =>
        Assert.Equal(expected, BenchOptionsParser.Parse(name).Workload);

    [Fact]
    public void FewClients_GetOneConnectionEach()
    {
        Assert.Equal(3, BenchOptionsParser.Parse("--clients", "3").Connections);
        Assert.Equal(1, BenchOptionsParser.Parse("--clients", "1").Connections);
    }

    [Fact]
    public void TotalWithoutDuration_IsBoundedByTenMinutes() =>
        Assert.Equal(TimeSpan.FromMinutes(10), BenchOptionsParser.Parse("--total", "100").Duration);

    [Theory]
    [InlineData("unknown workload 'delete'", "delete")]
    [InlineData("--clients must be between 1", "--clients", "0")]
    [InlineData("--connections (9) cannot exceed --clients (4)", "--clients", "4", "--connections", "9")]
    [InlineData("--key-size must be between 8", "--key-count", "10000000", "--key-size", "6")]
    [InlineData("--value-size must be between 0", "--value-size", "-1")]
    [InlineData("the range-1000 workload needs --key-count of at least 1000", "range-1000", "--key-count", "999")]
    [InlineData("--duration 'soon' is not a duration", "--duration", "soon")]
    [InlineData("--duration '0s' is not a duration", "--duration", "0s")]
    [InlineData("--total must be at least 1", "--total", "0")]
    [InlineData("--warmup 'later' is not a duration", "--warmup", "later")]
    [InlineData("--rate must be a positive number", "--rate", "0")]
    [InlineData("--read-ratio must be between 0 and 1", "--read-ratio", "1.5")]
    [InlineData("--output must be table or json", "-o", "xml")]
    [InlineData("--watchers must be between 1", "watch", "--watchers", "0")]
    [InlineData("--leases must be between --clients (4)", "lease-keepalive", "--clients", "4", "--leases", "3")]
    [InlineData("the watch workload needs --value-size of at least 8", "watch", "--value-size", "4")]
    [InlineData("--endpoints 'nohost' is not host:port", "--endpoints", "nohost")]
    [InlineData("--endpoints 'h:99999' is not host:port", "--endpoints", "h:99999")]
    [InlineData("TLS endpoints are not supported", "--endpoints", "https://h:1")]
    public void BadOptions_AreRefused_WithTheOptionNamed(string expected, params string[] args)
    {
        var exception = Assert.Throws<BenchOptionsException>(() => BenchOptionsParser.Parse(args));
        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("500ms", 0.5)]
    [InlineData("10s", 10)]
    [InlineData("2m", 120)]
    [InlineData("1h", 3600)]
    [InlineData("7", 7)]
    [InlineData("0.25s", 0.25)]
    public void Durations_Parse(string text, double seconds)
    {
        Assert.True(DurationText.TryParse(text, out var duration));
        Assert.Equal(seconds, duration.TotalSeconds, 9);
    }

    [Theory]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("-1s")]
    [InlineData("2d")]
    [InlineData("25h")]
    public void BadDurations_DoNotParse(string text) => Assert.False(DurationText.TryParse(text, out _));
}
