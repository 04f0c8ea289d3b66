namespace Parley.Torture;

/// <summary>
/// Where netns mode sends member-to-member packets while there is latency (nftables <c>fwd to</c> <see cref="Device"/>):
/// a bridge port that hands each packet back to the bridge after the delay. Two kinds: <see cref="NetemDelayLine"/>
/// (a veth pair with <c>tc netem</c> on one end, when the kernel has sch_netem) and <see cref="TapDelayLine"/> (a tap
/// device whose frames this process holds for the delay and writes back, when it has not).
/// </summary>
internal interface IDelayLine : IDisposable
{
    /// <summary>The device the redirect rules forward to.</summary>
    string Device { get; }

    /// <summary>How the delay is made, for the run header and the schedule.</summary>
    string Mechanism { get; }

    /// <summary>Delay (and up to <paramref name="jitterMs"/> more, drawn per packet) for packets from now on; 0 = none.</summary>
    void SetDelay(int delayMs, int jitterMs);
}
