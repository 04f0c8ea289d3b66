using System.Globalization;
using System.Text;

namespace Parley.Torture;

/// <summary>
/// Renders the network faults in force (<see cref="LinkFaultState"/>) as one nftables script, applied atomically with
/// <c>nft -f -</c>: it replaces the cluster's tables as a whole, so a change never leaves half a partition behind and
/// the empty state (heal) leaves a table with no rules.
/// <list type="bullet">
/// <item>A <c>bridge</c> table whose <c>links</c> chain hooks the bridge's forward path, the only way one member's
/// packets reach another: a blocked direction is <c>ip saddr A ip daddr B drop</c> (every packet from A to B,
/// TCP acknowledgements included, so a one-way block is a real asymmetric partition); loss is
/// <c>numgen random mod 100 &lt; N drop</c> on packets between members.</item>
/// <item>While there is latency, a <c>netdev</c> table with one ingress chain per member's host-side veth that sends
/// the member's packets for other members through the delay line (<c>fwd to</c>), which hands them back to the
/// bridge late. Packets to and from the clients in the root namespace are never touched: as in proxy mode, the
/// faults are between members.</item>
/// </list>
/// </summary>
public static class NftRules
{
    /// <summary>Chain in the bridge table that filters member-to-member packets.</summary>
    public const string LinksChain = "links";

    public static string Render(NetnsLayout layout, LinkFaultState state)
    {
        var script = new StringBuilder();
        var members = "{ " + string.Join(", ", layout.Members.Select(member => member.Address)) + " }";
        Replace(script, "bridge", layout.Table);
        script.Append(CultureInfo.InvariantCulture, $"table bridge {layout.Table} {{\n");
        script.Append(CultureInfo.InvariantCulture, $"\tchain {LinksChain} {{\n");
        script.Append("\t\ttype filter hook forward priority 0; policy accept;\n");
        foreach (var (from, to) in state.Blocked)
        {
            if (layout.Find(from) is { } source && layout.Find(to) is { } target)
            {
                script.Append(CultureInfo.InvariantCulture, $"\t\tip saddr {source.Address} ip daddr {target.Address} drop comment \"{source.Name} -> {target.Name} blocked\"\n");
            }
        }
        if (state.LossPercent > 0)
        {
            script.Append(CultureInfo.InvariantCulture,
                $"\t\tip saddr {members} ip daddr {members} numgen random mod 100 < {state.LossPercent} drop comment \"loss {state.LossPercent}%\"\n");
        }
        script.Append("\t}\n}\n");
        Replace(script, "netdev", layout.Table);
        var delayed = layout.Members.Where(member => member.HostLink is not null).ToList();
        if (state.DelayMs > 0 && delayed.Count > 0)
        {
            script.Append(CultureInfo.InvariantCulture, $"table netdev {layout.Table} {{\n");
            foreach (var member in delayed)
            {
                script.Append(CultureInfo.InvariantCulture, $"\tchain {member.Name} {{\n");
                script.Append(CultureInfo.InvariantCulture, $"\t\ttype filter hook ingress device \"{member.HostLink}\" priority 0; policy accept;\n");
                script.Append(CultureInfo.InvariantCulture,
                    $"\t\tip daddr {members} fwd to \"{layout.DelayDevice}\" comment \"{member.Name} -> members: delay {state.DelayMs} ms + up to {state.JitterMs} ms\"\n");
                script.Append("\t}\n");
            }
            script.Append("}\n");
        }
        return script.ToString();
    }

    /// <summary>A script that removes the cluster's tables (whether or not they exist).</summary>
    public static string RenderRemoval(string table)
    {
        var script = new StringBuilder();
        Replace(script, "bridge", table);
        Replace(script, "netdev", table);
        return script.ToString();
    }

    /// <summary>Declaring a table first makes the delete succeed when it does not exist yet (nft 1.0.6 has no <c>destroy</c>).</summary>
    private static void Replace(StringBuilder script, string family, string table) =>
        script.Append(CultureInfo.InvariantCulture, $"table {family} {table}\ndelete table {family} {table}\n");
}

/// <summary>What a ruleset refers to: the cluster's table name, the delay line device, and every member slot's address.</summary>
public sealed record NetnsLayout(string Table, string DelayDevice, IReadOnlyList<NetnsMember> Members)
{
    public NetnsMember? Find(int slot) => Members.FirstOrDefault(member => member.Slot == slot);
}

/// <summary>
/// A member slot in netns mode: its name, namespace address, and host-side veth (null once its namespace is gone: a
/// removed member's address stays in the rules that name it, harmlessly).
/// </summary>
public sealed record NetnsMember(int Slot, string Name, string Address, string? HostLink);
