using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Parley.Torture;

/// <summary>
/// The names netns mode gives what it creates, all recognisable and carrying the owning process id, so that a run
/// that died without cleaning up (SIGKILL, a crash) is cleaned up by the next one, and a live run's are left alone:
/// namespaces <c>parley-torture-PID-ID-m1</c>, nftables tables <c>parley_torture_PID_ID</c> (bridge and netdev
/// families), links <c>ptIDbr</c> (bridge), <c>ptIDs0</c> (a member's host-side veth), <c>ptIDdl</c> (delay line)
/// with the alias <c>parley-torture PID ID</c> (link names are limited to 15 characters). ID is six hex digits per
/// cluster.
/// </summary>
public static partial class NetnsNames
{
    public const string NamespacePrefix = "parley-torture-";
    public const string TablePrefix = "parley_torture_";
    public const string AliasPrefix = "parley-torture ";

    /// <summary>Member addresses are .10 and up in the cluster's /24; .1 is the bridge (the root namespace's side).</summary>
    public const int FirstMemberHost = 10;

    public const int SlotsMax = 240;

    public static string Namespace(int owner, string id, string member) => string.Create(CultureInfo.InvariantCulture, $"{NamespacePrefix}{owner}-{id}-{member}");

    public static string Table(int owner, string id) => string.Create(CultureInfo.InvariantCulture, $"{TablePrefix}{owner}_{id}");

    public static string Alias(int owner, string id) => string.Create(CultureInfo.InvariantCulture, $"{AliasPrefix}{owner} {id}");

    public static string Bridge(string id) => $"pt{id}br";

    public static string HostLink(string id, int slot) => string.Create(CultureInfo.InvariantCulture, $"pt{id}s{slot}");

    public static string DelayLink(string id) => $"pt{id}dl";

    /// <summary>The bridge-side end of the netem delay line's veth pair.</summary>
    public static string DelayBridgePort(string id) => $"pt{id}dp";

    /// <summary>The owning process of a namespace, table or link alias made by netns mode, or null when it is not one.</summary>
    public static int? Owner(string nameOrAlias)
    {
        var match = OwnerPattern().Match(nameOrAlias);
        return match.Success && int.TryParse(match.Groups["pid"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    [GeneratedRegex(@"^(parley-torture-|parley_torture_|parley-torture )(?<pid>[0-9]{1,9})([-_ ]|$)")]
    private static partial Regex OwnerPattern();

    /// <summary>
    /// A private /24 (the first three octets, "10.X.Y") that overlaps none of the host's routes (every table, so
    /// local addresses too; the default route overlaps everything and is ignored), searched from a starting point
    /// among 10.100.0.0 - 10.254.255.0; null when every candidate is taken.
    /// </summary>
    public static string? ChooseSubnet(IEnumerable<string> routeDestinations, int start)
    {
        var taken = new List<(uint Network, int Length)>();
        foreach (var destination in routeDestinations)
        {
            if (TryParsePrefix(destination, out var network, out var length) && length > 0)
            {
                taken.Add((network, length));
            }
        }
        const int candidates = 155 * 256;
        for (var i = 0; i < candidates; i++)
        {
            var index = (int)(((uint)start + (uint)i) % candidates);
            var candidate = (10u << 24) | ((uint)(100 + index / 256) << 16) | ((uint)(index % 256) << 8);
            if (!taken.Any(route => Overlaps(candidate, 24, route.Network, route.Length)))
            {
                return string.Create(CultureInfo.InvariantCulture, $"10.{100 + index / 256}.{index % 256}");
            }
        }
        return null;
    }

    private static bool Overlaps(uint a, int aLength, uint b, int bLength)
    {
        var length = Math.Min(aLength, bLength);
        var mask = length == 0 ? 0u : uint.MaxValue << (32 - length);
        return (a & mask) == (b & mask);
    }

    private static bool TryParsePrefix(string text, out uint network, out int length)
    {
        network = 0;
        length = 32;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var address = slash < 0 ? text : text[..slash];
        if (slash >= 0 && !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out length))
        {
            return false;
        }
        if (length is < 0 or > 32 || !IPAddress.TryParse(address, out var parsed) || parsed.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            return false;
        }
        var bytes = parsed.GetAddressBytes();
        network = ((uint)bytes[0] << 24) | ((uint)bytes[1] << 16) | ((uint)bytes[2] << 8) | bytes[3];
        return true;
    }
}
