using System.Net.Sockets;
using Parley.Bench.Comparison;

namespace Parley.Bench.Tests;

/// <summary>
/// <c>parley bench</c> as a user runs it, against a real one-member Parley: the JSON it writes must account for
/// every operation. Counts only; no timing asserts.
/// </summary>
public sealed class BenchIntegrationTests(ParleyMemberFixture member) : IClassFixture<ParleyMemberFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public void Put_ClosedLoop_CountsEveryWrite()
    {
        var (result, output) = BenchWithOutput("put", "--clients", "4", "--duration", "2s", "--key-count", "1000", "--warmup", "500ms");
        Assert.Contains("parley bench: warm-up done; measuring", output);
        var clientCpu = Assert.IsType<double>(result.ClientCpuSeconds);
        Assert.InRange(clientCpu, 1e-6, (result.ElapsedSeconds + 1) * Environment.ProcessorCount); // the measured phase's only
        Assert.Equal("put", result.Workload);
        Assert.Equal(4, result.Clients);
        Assert.True(result.Operations > 0, "no put completed");
        Assert.Equal(0, result.Errors);
        Assert.Equal(result.Operations, result.Writes);
        Assert.Equal(0, result.Reads);
        Assert.Equal(result.Operations, result.Latency.Count);
        Assert.Null(result.ServiceTime);
        Assert.False(result.Cancelled);
        Assert.True(result.ThroughputPerSecond > 0);
        AssertOrdered(result.Latency);
    }

    [Fact]
    public void LinearizableGet_AfterPreload_ReadsItsKeyEveryTime()
    {
        var result = Bench("get", "--clients", "3", "--duration", "1500ms", "--key-count", "300", "--key-size", "12");
        Assert.True(result.Operations > 0);
        Assert.Equal(0, result.Errors);
        Assert.Equal(result.Operations, result.Reads);
        Assert.Equal(result.Operations, result.KeysRead);
        AssertOrdered(result.Latency);
    }

    [Fact]
    public void Range100_OpenLoop_SendsEveryScheduledOperation_AndReadsAHundredKeysEach()
    {
        // 100 ops/s for 2 s: slots 0..199 all fall inside the duration, so exactly 200 are sent, late or not
        var result = Bench("range-100", "--clients", "2", "--rate", "100", "--duration", "2s", "--key-count", "500");
        Assert.Equal(200, result.Operations + result.Errors);
        Assert.Equal(0, result.Errors);
        Assert.Equal(100 * result.Operations, result.KeysRead);
        Assert.Equal(100, result.TargetRatePerSecond);
        var service = Assert.IsType<LatencySummary>(result.ServiceTime);
        Assert.Equal(result.Operations, service.Count);
        // latency from the intended send time includes the service time
        Assert.True(result.Latency.MaxMs >= service.MaxMs * 0.99, $"{result.Latency.MaxMs} < {service.MaxMs}");
        AssertOrdered(result.Latency);
    }

    [Fact]
    public void TxnCompareAndSwap_WithATotal_StopsAtTheTotal_AndSucceedsOnceRevisionsAreKnown()
    {
        var result = Bench("txn-cas", "--clients", "4", "--total", "200", "--key-count", "8");
        Assert.Equal(200, result.Operations + result.Errors);
        Assert.Equal(0, result.Errors);
        Assert.Equal(result.Operations, result.TxnSucceeded + result.TxnFailed);
        // each client owns 2 keys: at most one failed compare per key (its first), the rest succeed
        Assert.True(result.TxnFailed <= 8, $"{result.TxnFailed} failed compares");
        Assert.True(result.TxnSucceeded >= 192, $"{result.TxnSucceeded} succeeded");
    }

    [Fact]
    public void TxnCompareAndSwap_OverGrpcNetClient_CountsTheSameWay()
    {
        var result = Bench("txn-cas", "--grpc-client", "grpc-net", "--clients", "4", "--total", "100", "--key-count", "8");
        Assert.Equal(100, result.Operations + result.Errors);
        Assert.Equal(0, result.Errors);
        Assert.Equal(result.Operations, result.TxnSucceeded + result.TxnFailed);
        Assert.True(result.TxnSucceeded >= 92, $"{result.TxnSucceeded} succeeded");
    }

    [Fact]
    public void Mixed_SplitsOperationsIntoReadsAndWrites()
    {
        var result = Bench("mixed", "--clients", "2", "--total", "300", "--read-ratio", "0.5", "--key-count", "200");
        Assert.Equal(300, result.Operations + result.Errors);
        Assert.Equal(0, result.Errors);
        Assert.Equal(result.Operations, result.Reads + result.Writes);
        Assert.True(result.Reads > 0 && result.Writes > 0, $"reads {result.Reads}, writes {result.Writes}");
        Assert.Equal(0.5, result.ReadRatio);
    }

    [Fact]
    public void Watch_EveryWatcherReceivesEveryPut()
    {
        var result = Bench("watch", "--clients", "2", "--rate", "50", "--duration", "2s", "--watchers", "10", "--key-count", "100");
        Assert.Equal(100, result.Operations + result.Errors);
        Assert.Equal(0, result.Errors);
        var watch = Assert.IsType<WatchSummary>(result.Watch);
        Assert.Equal(10, watch.Watchers);
        Assert.Equal(0, watch.WatcherErrors);
        Assert.Equal(result.Operations * 10, watch.EventsExpected);
        Assert.Equal(watch.EventsExpected, watch.EventsReceived);
        Assert.Equal(watch.EventsReceived, watch.DeliveryLatency.Count);
        Assert.True(watch.EventsPerSecond > 0);
    }

    [Fact]
    public void LeaseKeepAlive_EveryKeepAliveFindsItsLeaseAlive()
    {
        var result = Bench("lease-keepalive", "--clients", "3", "--leases", "7", "--total", "150");
        Assert.Equal(150, result.Operations + result.Errors);
        Assert.Equal(0, result.Errors);
        Assert.Equal(7, result.Leases);
        Assert.Equal(result.Operations, result.KeepAlives);
        AssertOrdered(result.Latency);
    }

    [Fact]
    public void UnreachableEndpoint_FailsWithAMessage_NotAHang()
    {
        var (exitCode, output) = BenchCli.Run(Timeout, "put", "--endpoints", "127.0.0.1:1", "--duration", "1s", "--no-progress");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("endpoint 127.0.0.1:1 did not answer", output, StringComparison.Ordinal);
    }

    [Fact]
    public void BadOption_ExitsWithTwo_AndNamesIt()
    {
        var (exitCode, output) = BenchCli.Run(Timeout, "put", "--clients", "0");
        Assert.Equal(2, exitCode);
        Assert.Contains("--clients must be between 1", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_OneMemberEach_MeasuresBothSides_WritesJsonAndSvg_AndStopsItsServers()
    {
        if (!File.Exists(ServerCommand.EtcdDefaultPath))
        {
            return; // etcd-server not installed: compare cannot run (CI installs it)
        }
        var directory = Path.Combine(Path.GetTempPath(), "parley-bench-test-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var (exitCode, output) = BenchCli.Run(Timeout, "compare", "--members", "1", "--workloads", "put,get-serializable", "--clients", "4",
                "--sweep", "1,4", "--duration", "1s", "--warmup", "500ms", "--key-count", "200", "--out", directory, "--no-progress", "--time-limit", "2m");
            Assert.True(exitCode == 0, output);
            var result = BenchJson.Deserialize<CompareResult>(File.ReadAllText(Path.Combine(directory, "compare.json")));
            Assert.Equal(2, result.Workloads.Count);
            Assert.Equal([1, 4], result.Sweep.Select(point => point.Clients));
            foreach (var comparison in result.Workloads.Concat(result.Sweep))
            {
                Assert.True(comparison.Etcd.Result.Operations > 0, $"etcd {comparison.Workload}: no operations");
                Assert.True(comparison.Parley.Result.Operations > 0, $"parley {comparison.Workload}: no operations");
                Assert.Equal(0, comparison.Etcd.Result.Errors + comparison.Parley.Result.Errors);
                Assert.True(comparison.Etcd.PeakResidentBytes > 0 && comparison.Parley.PeakResidentBytes > 0);
                Assert.True(comparison.Etcd.ServerCpuSeconds > 0 && comparison.Parley.ServerCpuSeconds > 0);
            }
            Assert.Contains(result.Targets, target => target.Name == "issue 5: put throughput >= etcd's" && target.Met is not null);
            Assert.Contains("<polyline", File.ReadAllText(Path.Combine(directory, "compare.svg")), StringComparison.Ordinal);
            foreach (var endpoint in result.Workloads.SelectMany(run => run.Etcd.Result.Endpoints.Concat(run.Parley.Result.Endpoints)).Distinct())
            {
                Assert.False(Accepts(endpoint), $"{endpoint} still accepts connections after compare ended");
            }
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private BenchResult Bench(params string[] args) => BenchWithOutput(args).Result;

    private (BenchResult Result, string Output) BenchWithOutput(params string[] args)
    {
        var json = Path.Combine(Path.GetTempPath(), "parley-bench-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        try
        {
            var (exitCode, output) = BenchCli.Run(Timeout, [.. args, "--endpoints", member.Endpoint, "--json", json, "--no-progress"]);
            Assert.True(exitCode == 0, $"exit {exitCode}: {output}");
            return (BenchJson.Deserialize<BenchResult>(File.ReadAllText(json)), output);
        }
        finally
        {
            File.Delete(json);
        }
    }

    private static void AssertOrdered(LatencySummary latency)
    {
        Assert.True(latency.MinMs <= latency.P50Ms, $"min {latency.MinMs} > p50 {latency.P50Ms}");
        Assert.True(latency.P50Ms <= latency.P90Ms && latency.P90Ms <= latency.P99Ms && latency.P99Ms <= latency.P999Ms && latency.P999Ms <= latency.MaxMs,
            $"percentiles out of order: {latency}");
    }

    private static bool Accepts(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        using var client = new TcpClient();
        try
        {
            client.Connect(endpoint[..colon], int.Parse(endpoint[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
