namespace Parley.Bench.Tests;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Percentiles_OfOneToTenThousandMicroseconds_AreWithinHdrPrecision()
    {
        var histogram = new LatencyHistogram();
        for (var microseconds = 1; microseconds <= 10_000; microseconds++)
        {
            histogram.RecordMicroseconds(microseconds);
        }
        var summary = histogram.Summarize();
        Assert.Equal(10_000, summary.Count);
        Assert.Equal(5.0, summary.P50Ms, 0.01);
        Assert.Equal(9.0, summary.P90Ms, 0.01);
        Assert.Equal(9.9, summary.P99Ms, 0.01);
        Assert.Equal(9.99, summary.P999Ms, 0.01);
        Assert.Equal(10.0, summary.MaxMs, 0.01);
        Assert.Equal(0.001, summary.MinMs, 0.0005);
        Assert.Equal(5.0, summary.MeanMs, 0.01);
    }

    [Fact]
    public void Merging_ClientHistograms_KeepsEveryValue()
    {
        var fast = new LatencyHistogram();
        var slow = new LatencyHistogram();
        for (var i = 0; i < 990; i++)
        {
            fast.RecordMicroseconds(500);
        }
        for (var i = 0; i < 10; i++)
        {
            slow.RecordMicroseconds(200_000);
        }
        var all = new LatencyHistogram();
        all.Add(fast);
        all.Add(slow);
        var summary = all.Summarize();
        Assert.Equal(1000, summary.Count);
        Assert.Equal(0.5, summary.P50Ms, 0.001);
        Assert.Equal(0.5, summary.P99Ms, 0.001);
        Assert.Equal(200.0, summary.P999Ms, 0.2);
        Assert.Equal(200.0, summary.MaxMs, 0.2);
    }

    [Fact]
    public void Ticks_AreConvertedToMicroseconds()
    {
        var histogram = new LatencyHistogram();
        histogram.RecordTicks(2_500_000, 1_000_000_000); // 2.5 ms at 1 GHz ticks
        Assert.Equal(2.5, histogram.Summarize().P50Ms, 0.003);
    }

    [Fact]
    public void OutOfRangeValues_AreClamped_NotLost()
    {
        var histogram = new LatencyHistogram();
        histogram.RecordMicroseconds(0);
        histogram.RecordMicroseconds(-5);
        histogram.RecordMicroseconds(long.MaxValue);
        Assert.Equal(3, histogram.Count);
        Assert.Equal(LatencyHistogram.HighestMicroseconds / 1000.0, histogram.Summarize().MaxMs, LatencyHistogram.HighestMicroseconds / 1000.0 * 0.002);
    }

    [Fact]
    public void Empty_SummarizesToZeros() => Assert.Equal(new LatencySummary(0, 0, 0, 0, 0, 0, 0, 0), new LatencyHistogram().Summarize());

    [Fact]
    public void ErrorTally_KeepsAtMostKindsMax_AndCountsTheRestAsOther()
    {
        var tally = new ErrorTally();
        for (var i = 0; i < ErrorTally.KindsMax + 10; i++)
        {
            tally.Add("kind " + i);
        }
        tally.Add("kind 0");
        var snapshot = tally.Snapshot();
        Assert.Equal(ErrorTally.KindsMax + 11, tally.Total);
        Assert.Equal(ErrorTally.KindsMax + 1, snapshot.Count);
        Assert.Equal(10, snapshot["other"]);
        Assert.Equal(2, snapshot["kind 0"]);
    }
}
