namespace Parley.Bench.Tests;

public sealed class OpenLoopScheduleTests
{
    private const long TicksPerSecond = 1_000_000_000;

    [Fact]
    public void Slots_AreEvenlySpaced_AcrossClients()
    {
        // 1,000 ops/s over 4 clients: a send every 1 ms overall, every 4 ms per client, clients staggered by 1 ms
        var schedule = new OpenLoopSchedule(1000, 4, TicksPerSecond);
        Assert.Equal(0, schedule.IntendedOffsetTicks(0, 0));
        Assert.Equal(1_000_000, schedule.IntendedOffsetTicks(1, 0));
        Assert.Equal(3_000_000, schedule.IntendedOffsetTicks(3, 0));
        Assert.Equal(4_000_000, schedule.IntendedOffsetTicks(0, 1));
        Assert.Equal(41_000_000, schedule.IntendedOffsetTicks(1, 10));
        var all = Enumerable.Range(0, 4).SelectMany(client => Enumerable.Range(0, 50).Select(k => schedule.IntendedOffsetTicks(client, k))).Order().ToArray();
        for (var i = 1; i < all.Length; i++)
        {
            Assert.Equal(1_000_000, all[i] - all[i - 1]);
        }
    }

    [Theory]
    [InlineData(1000, 4, 1.0)]
    [InlineData(333.3, 7, 2.5)]
    [InlineData(50_000, 64, 0.01)]
    [InlineData(3, 10, 1.0)]
    public void ScheduledOperations_SumToRateTimesDuration(double rate, int clients, double seconds)
    {
        var schedule = new OpenLoopSchedule(rate, clients, TicksPerSecond);
        var duration = (long)(seconds * TicksPerSecond);
        var total = Enumerable.Range(0, clients).Sum(client => schedule.ScheduledOperations(client, duration));
        // slots 0 .. ceil(rate·seconds)−1 fall inside [0, duration)
        Assert.Equal((long)Math.Ceiling(rate * seconds - 1e-9), total);
        for (var client = 0; client < clients; client++)
        {
            var count = schedule.ScheduledOperations(client, duration);
            if (count > 0)
            {
                Assert.True(schedule.IntendedOffsetTicks(client, count - 1) < duration);
            }
            Assert.True(schedule.IntendedOffsetTicks(client, count) >= duration);
        }
    }

    [Fact]
    public void NonPositiveRates_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new OpenLoopSchedule(0, 1, TicksPerSecond));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OpenLoopSchedule(double.NaN, 1, TicksPerSecond));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OpenLoopSchedule(10, 0, TicksPerSecond));
    }
}
