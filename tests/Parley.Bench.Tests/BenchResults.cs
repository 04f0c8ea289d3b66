namespace Parley.Bench.Tests;

/// <summary>Bench results made up for the tests of what consumes them (reports, targets, the warm-up rule).</summary>
internal static class BenchResults
{
    /// <summary>A 10 s closed-loop run at <paramref name="opsPerSecond"/> with the given p50 and p99.</summary>
    public static BenchResult Result(string workload, int clients, double opsPerSecond, double p50, double p99) => new()
    {
        Workload = workload,
        Endpoints = ["127.0.0.1:1"],
        Clients = clients,
        Connections = 1,
        KeyCount = 1000,
        KeySizeBytes = 16,
        ValueSizeBytes = 256,
        StartedUtc = "2026-01-01T00:00:00Z",
        ElapsedSeconds = 10,
        Operations = (long)(opsPerSecond * 10),
        Errors = 0,
        ErrorKinds = new Dictionary<string, long>(),
        ThroughputPerSecond = opsPerSecond,
        Latency = new LatencySummary((long)(opsPerSecond * 10), p50, p50 * 2, p99, p99 * 1.5, p99 * 2, 0.1, p50),
    };
}
