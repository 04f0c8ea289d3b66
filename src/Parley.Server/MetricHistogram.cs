using System.Globalization;
using System.Text;

namespace Parley.Server;

/// <summary>
/// A Prometheus histogram (cumulative <c>_bucket{le=…}</c>, <c>_sum</c>, <c>_count</c>) with fixed upper bounds in
/// seconds. Thread-safe: observations come from the node loop, the peer links and request threads.
/// </summary>
internal sealed class MetricHistogram
{
    private readonly double[] _upperBounds;
    private readonly long[] _counts; // per bucket, not cumulative; the last one is +Inf
    private readonly Lock _gate = new();
    private double _sum;

    public MetricHistogram(double[] upperBounds)
    {
        for (var i = 1; i < upperBounds.Length; i++)
        {
            if (!(upperBounds[i] > upperBounds[i - 1]))
            {
                throw new ArgumentException("histogram bounds must increase", nameof(upperBounds));
            }
        }
        _upperBounds = upperBounds;
        _counts = new long[upperBounds.Length + 1];
    }

    /// <summary>etcd's disk histograms (WAL fsync, backend commit): 0.001·2^k s, 14 buckets up to 8.192 s.</summary>
    public static double[] DiskBounds { get; } = ExponentialBounds(0.001, 14);

    /// <summary>etcd's peer round-trip histogram: 0.0001·2^k s, 16 buckets up to 3.2768 s.</summary>
    public static double[] RoundTripBounds { get; } = ExponentialBounds(0.0001, 16);

    public long Count
    {
        get
        {
            lock (_gate)
            {
                return _counts.Sum();
            }
        }
    }

    public static double[] ExponentialBounds(double start, int count)
    {
        var bounds = new double[count];
        for (var i = 0; i < count; i++)
        {
            bounds[i] = start * Math.Pow(2, i);
        }
        return bounds;
    }

    public void Observe(TimeSpan duration) => Observe(duration.TotalSeconds);

    public void Observe(double seconds)
    {
        var bucket = Array.BinarySearch(_upperBounds, seconds);
        if (bucket < 0)
        {
            bucket = ~bucket; // the first bound above the value (le is inclusive: an exact match stays in its bucket)
        }
        lock (_gate)
        {
            _counts[bucket]++;
            _sum += seconds;
        }
    }

    /// <summary>Appends the series of this histogram; <paramref name="labels"/> is empty or like <c>To="8e9e05c52164694d"</c>.</summary>
    public void Render(StringBuilder text, string name, string labels)
    {
        long[] counts;
        double sum;
        lock (_gate)
        {
            counts = (long[])_counts.Clone();
            sum = _sum;
        }
        var prefix = labels.Length == 0 ? "" : labels + ",";
        long cumulative = 0;
        for (var i = 0; i < _upperBounds.Length; i++)
        {
            cumulative += counts[i];
            Append(text, $"{name}_bucket{{{prefix}le=\"{Number(_upperBounds[i])}\"}}", cumulative);
        }
        cumulative += counts[^1];
        Append(text, $"{name}_bucket{{{prefix}le=\"+Inf\"}}", cumulative);
        var suffix = labels.Length == 0 ? "" : "{" + labels + "}";
        text.Append(name).Append("_sum").Append(suffix).Append(' ').Append(Number(sum)).Append('\n');
        Append(text, $"{name}_count{suffix}", cumulative);
    }

    /// <summary>The shortest text that reads back as the same double (0.001·2^k prints as 0.008, not 0.0080000000000000002).</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static void Append(StringBuilder text, string series, long value) =>
        text.Append(series).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
}
