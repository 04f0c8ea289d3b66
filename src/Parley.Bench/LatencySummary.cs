namespace Parley.Bench;

/// <summary>Latency percentiles in milliseconds (HdrHistogram values: within 0.1% of the recorded ones).</summary>
public sealed record LatencySummary(
    long Count,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double P999Ms,
    double MaxMs,
    double MinMs,
    double MeanMs);
