using HdrHistogram;

namespace Parley.Bench;

/// <summary>
/// One client's latencies in microseconds (HdrHistogram, 3 significant digits, 1 µs to 1 hour). Not thread-safe:
/// each client owns one, and the run merges them at the end.
/// </summary>
public sealed class LatencyHistogram
{
    public const long HighestMicroseconds = 3_600_000_000;

    private readonly LongHistogram _histogram = new(1, HighestMicroseconds, 3);

    public long Count => _histogram.TotalCount;

    internal HistogramBase Histogram => _histogram;

    public void RecordMicroseconds(long microseconds) =>
        _histogram.RecordValue(Math.Clamp(microseconds, 1, HighestMicroseconds));

    public void RecordTicks(long ticks, long ticksPerSecond) =>
        RecordMicroseconds((long)(ticks * 1_000_000.0 / ticksPerSecond));

    public void Add(LatencyHistogram other) => _histogram.Add(other._histogram);

    public LatencySummary Summarize()
    {
        if (_histogram.TotalCount == 0)
        {
            return new LatencySummary(0, 0, 0, 0, 0, 0, 0, 0);
        }
        return new LatencySummary(
            _histogram.TotalCount,
            Milliseconds(_histogram.GetValueAtPercentile(50)),
            Milliseconds(_histogram.GetValueAtPercentile(90)),
            Milliseconds(_histogram.GetValueAtPercentile(99)),
            Milliseconds(_histogram.GetValueAtPercentile(99.9)),
            Milliseconds(_histogram.GetMaxValue()),
            Milliseconds(_histogram.GetValueAtPercentile(0)),
            Math.Round(_histogram.GetMean() / 1000.0, 4));
    }

    private static double Milliseconds(long microseconds) => Math.Round(microseconds / 1000.0, 3);
}
