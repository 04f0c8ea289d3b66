using System.Globalization;

namespace Parley.Torture;

/// <summary>
/// A delay line in the kernel: packets forwarded to <see cref="Device"/> (one end of a veth pair) wait in its
/// <c>tc netem</c> qdisc, then come out of the other end, a bridge port that neither learns addresses nor receives
/// floods, and the bridge delivers them. Only where the kernel has sch_netem (<see cref="NetnsSupport"/> detects it).
/// </summary>
internal sealed class NetemDelayLine : IDelayLine
{
    private readonly TextWriter _log;
    private (int DelayMs, int JitterMs) _current;

    private NetemDelayLine(string device, TextWriter log)
    {
        Device = device;
        _log = log;
    }

    public string Device { get; }

    public string Mechanism => "tc netem on a veth pair the member-to-member packets are forwarded through";

    /// <summary>Creates the veth pair: <paramref name="device"/> takes the packets, <paramref name="bridgeSide"/> joins the bridge.</summary>
    public static NetemDelayLine Create(string device, string bridgeSide, string bridge, string alias, TextWriter log)
    {
        HostCommand.Run(log, NetnsSupport.Ip, ["link", "add", device, "type", "veth", "peer", "name", bridgeSide]);
        var line = new NetemDelayLine(device, log);
        try
        {
            foreach (var link in new[] { device, bridgeSide })
            {
                HostCommand.Run(log, NetnsSupport.Ip, ["link", "set", "dev", link, "alias", alias]);
            }
            NetnsSupport.JoinBridgeAsDelayPort(bridgeSide, bridge, log);
            HostCommand.Run(log, NetnsSupport.Ip, ["link", "set", "dev", device, "up"]);
            return line;
        }
        catch
        {
            line.Dispose();
            throw;
        }
    }

    public void SetDelay(int delayMs, int jitterMs)
    {
        // At 0 the redirect rules are gone and nothing enters; the qdisc stays, so nothing queued is dropped.
        if (delayMs <= 0 || _current == (delayMs, jitterMs))
        {
            return;
        }
        HostCommand.Run(_log, NetnsSupport.Tc, ["qdisc", "replace", "dev", Device, "root", "netem", "limit", "100000",
            "delay", delayMs.ToString(CultureInfo.InvariantCulture) + "ms", jitterMs.ToString(CultureInfo.InvariantCulture) + "ms"]);
        _current = (delayMs, jitterMs);
    }

    public void Dispose()
    {
        HostCommand.TryRun(_log, NetnsSupport.Ip, ["link", "del", Device]); // takes its peer, the bridge port, with it
    }
}
