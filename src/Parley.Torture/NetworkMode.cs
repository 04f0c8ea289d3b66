namespace Parley.Torture;

/// <summary>How torture makes network faults real (<c>--network</c>).</summary>
public enum NetworkMode
{
    /// <summary>Netns when running as root and the host can (<see cref="NetnsSupport.Probe"/>), else proxy.</summary>
    Auto,
    /// <summary>Every member in its own network namespace; partitions and loss as nftables rules; latency by netem or a delay line.</summary>
    Netns,
    /// <summary>Members on 127.0.0.1, each behind a fault-injecting TCP proxy in front of its peer port.</summary>
    Proxy,
}

public static class NetworkModes
{
    public static string Name(NetworkMode mode) => mode switch
    {
        NetworkMode.Netns => "netns",
        NetworkMode.Proxy => "proxy",
        _ => "auto",
    };

    public static NetworkMode? Parse(string text) => text switch
    {
        "auto" => NetworkMode.Auto,
        "netns" => NetworkMode.Netns,
        "proxy" => NetworkMode.Proxy,
        _ => null,
    };

    /// <summary>The mode a run uses for <paramref name="requested"/> on this host, and a sentence that says why.</summary>
    public static (NetworkMode Mode, string Description) Resolve(NetworkMode requested)
    {
        if (requested == NetworkMode.Proxy)
        {
            return (NetworkMode.Proxy, "proxy (asked for): a fault-injecting TCP proxy in front of every member's peer port, on 127.0.0.1");
        }
        var probe = NetnsSupport.Probe;
        if (probe.Usable)
        {
            return (NetworkMode.Netns, $"netns{(requested == NetworkMode.Auto ? " (auto: root, and ip netns, veths, a bridge and nftables work)" : "")}: "
                + "every member in its own network namespace on a bridge; partitions and loss as nftables rules on the bridge (real packet drops); "
                + "latency through " + probe.LatencyMechanism);
        }
        if (requested == NetworkMode.Netns)
        {
            throw new NetnsException("--network netns cannot run here: " + probe.Reason);
        }
        return (NetworkMode.Proxy, $"proxy (auto: netns cannot run here: {probe.Reason}): a fault-injecting TCP proxy in front of every member's peer port, on 127.0.0.1");
    }
}
