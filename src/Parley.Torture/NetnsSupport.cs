using System.Globalization;
using System.Runtime.InteropServices;

namespace Parley.Torture;

/// <summary>
/// Whether this host can run netns mode, found out once per process by trying what it needs inside a throwaway
/// namespace (nothing in the root namespace is touched): root, <c>ip netns</c>, veths and a bridge, nftables bridge
/// filtering, <c>numgen</c> and netdev <c>fwd</c>; and how latency can be made: <c>tc netem</c> if the kernel has
/// sch_netem, else a tap device (user-space delay line).
/// </summary>
public static class NetnsSupport
{
    private static readonly Lazy<NetnsProbe> Probed = new(ProbeNow, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Ip { get; } = Tool("ip");

    public static string Nft { get; } = Tool("nft");

    public static string Tc { get; } = Tool("tc");

    public static string BridgeTool { get; } = Tool("bridge");

    public static bool IsRoot => Native.GetEffectiveUserId() == 0;

    /// <summary>The host's answer (probed on first use).</summary>
    public static NetnsProbe Probe => Probed.Value;

    /// <summary>Puts a delay line's bridge-side port in the bridge: it learns no addresses and gets no floods, so it only carries redirected packets.</summary>
    internal static void JoinBridgeAsDelayPort(string port, string bridge, TextWriter log)
    {
        HostCommand.Run(log, Ip, ["link", "set", "dev", port, "master", bridge]);
        HostCommand.Run(log, BridgeTool, ["link", "set", "dev", port, "learning", "off", "flood", "off", "mcast_flood", "off", "bcast_flood", "off"]);
        HostCommand.Run(log, Ip, ["link", "set", "dev", port, "up"]);
    }

    private static NetnsProbe ProbeNow()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            return NetnsProbe.No("not Linux");
        }
        if (!IsRoot)
        {
            return NetnsProbe.No("not running as root (network namespaces, veths and nftables need root)");
        }
        var probe = NetnsNames.Namespace(Environment.ProcessId, "probe", "0");
        HostCommand.TryRun(null, Ip, ["netns", "del", probe]);
        var (exitCode, _, error) = HostCommand.TryRun(null, Ip, ["netns", "add", probe]);
        if (exitCode != 0)
        {
            return NetnsProbe.No("ip netns add failed: " + error.Trim());
        }
        try
        {
            foreach (var step in new[]
            {
                new[] { "-n", probe, "link", "set", "lo", "up" },
                ["-n", probe, "link", "add", "ptprobebr", "type", "bridge"],
                ["-n", probe, "link", "add", "ptprobe0", "type", "veth", "peer", "name", "ptprobe1"],
                ["-n", probe, "link", "set", "ptprobe1", "master", "ptprobebr"],
            })
            {
                if (HostCommand.TryRun(null, Ip, step) is { ExitCode: not 0 } failed)
                {
                    return NetnsProbe.No($"ip {string.Join(" ", step)} failed: {failed.Error.Trim()}");
                }
            }
            var rules = """
                table bridge probe {
                	chain links {
                		type filter hook forward priority 0; policy accept;
                		ip saddr 10.0.0.1 ip daddr 10.0.0.2 drop
                		ip saddr { 10.0.0.1, 10.0.0.2 } ip daddr { 10.0.0.1, 10.0.0.2 } numgen random mod 100 < 10 drop
                	}
                }
                table netdev probe {
                	chain m0 {
                		type filter hook ingress device "ptprobe0" priority 0; policy accept;
                		ip daddr 10.0.0.2 fwd to "ptprobe1"
                	}
                }

                """;
            if (HostCommand.TryRun(null, Ip, ["netns", "exec", probe, Nft, "-f", "-"], rules) is { ExitCode: not 0 } nft)
            {
                return NetnsProbe.No("nftables cannot filter bridged packets or forward at netdev ingress: " + nft.Error.Trim());
            }
            var netem = HostCommand.TryRun(null, Ip, ["netns", "exec", probe, Tc, "qdisc", "add", "dev", "ptprobe0", "root", "netem", "delay", "1ms"]);
            var tap = HostCommand.TryRun(null, Ip, ["-n", probe, "tuntap", "add", "dev", "ptprobetap", "mode", "tap"]);
            if (netem.ExitCode != 0 && tap.ExitCode != 0)
            {
                return NetnsProbe.No($"no way to add latency: tc netem failed ({netem.Error.Trim()}) and a tap device could not be made ({tap.Error.Trim()})");
            }
            return new NetnsProbe(true, "", netem.ExitCode == 0, netem.ExitCode == 0 ? "" : netem.Error.Trim());
        }
        finally
        {
            HostCommand.TryRun(null, Ip, ["netns", "del", probe]);
        }
    }

    private static string Tool(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]))
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                return path;
            }
        }
        return name; // not found: running it fails, and says so
    }

    private static class Native
    {
        [DllImport("libc", EntryPoint = "geteuid")]
        public static extern uint GetEffectiveUserId();
    }
}

/// <summary>What <see cref="NetnsSupport"/> found: whether netns mode can run (if not, why) and whether the kernel has sch_netem.</summary>
public sealed record NetnsProbe(bool Usable, string Reason, bool HasNetem, string NetemError)
{
    public static NetnsProbe No(string reason) => new(false, reason, false, "");

    /// <summary>How latency is made in netns mode on this host.</summary>
    public string LatencyMechanism => HasNetem
        ? "tc netem"
        : string.Create(CultureInfo.InvariantCulture, $"a user-space delay line on a tap device (no sch_netem: {NetemError})");
}
