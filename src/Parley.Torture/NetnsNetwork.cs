using System.Globalization;
using System.Text.Json;

namespace Parley.Torture;

/// <summary>
/// One cluster's real network in netns mode. Every member slot gets its own network namespace (loopback up, one
/// veth whose host side is a port of the cluster's bridge), an address in a private /24 that overlaps no route of the
/// host, and the bridge has the subnet's .1 in the root namespace, where clients, watchers and lock users run. The
/// faults in force (<see cref="LinkFaults"/>) become nftables rules (<see cref="NftRules"/>) and a delay line, applied
/// on every change: real packet drops, so TCP stalls and retransmits as in a real partition.
/// Everything it makes is named by <see cref="NetnsNames"/> and removed by <see cref="Dispose"/>, by a process-exit
/// hook, or (after a crash) by the next run's <see cref="RemoveStale"/>.
/// </summary>
public sealed class NetnsNetwork : IDisposable
{
    public const int ClientPort = 2379;
    public const int PeerPort = 2380;

    private static readonly Lock LiveGate = new();
    private static readonly List<NetnsNetwork> Live = [];
    private static bool _exitHooked;

    private readonly LinkFaults _faults;
    private readonly TextWriter _log;
    private readonly Lock _gate = new();
    private readonly SortedDictionary<int, NetnsMember> _members = [];
    private readonly Dictionary<int, string> _namespaces = [];
    private readonly int _owner = Environment.ProcessId;
    private IDelayLine? _delayLine;
    private string? _applied;
    private bool _bridgeMade;
    private bool _disposed;

    private NetnsNetwork(LinkFaults faults, TextWriter log, string id)
    {
        _faults = faults;
        _log = log;
        Id = id;
        Table = NetnsNames.Table(_owner, id);
        Bridge = NetnsNames.Bridge(id);
    }

    /// <summary>Six hex digits, in every name this cluster's network uses.</summary>
    public string Id { get; }

    /// <summary>The nftables tables (bridge family: partitions and loss; netdev family: the latency redirect).</summary>
    public string Table { get; }

    public string Bridge { get; }

    /// <summary>The first three octets of the cluster's /24 ("10.X.Y").</summary>
    public string Prefix { get; private set; } = "";

    public string Subnet => Prefix + ".0/24";

    /// <summary>The root namespace's address on the bridge (what members see clients come from).</summary>
    public string Gateway => Prefix + ".1";

    public string LatencyMechanism => _delayLine?.Mechanism ?? "none";

    /// <summary>Sets up the bridge, the delay line and the (empty) rules; removes what dead runs left behind first.</summary>
    public static NetnsNetwork Create(LinkFaults faults, bool useNetem, int seed, TextWriter log)
    {
        RemoveStale(log);
        var network = new NetnsNetwork(faults, log, FreshId(log));
        lock (LiveGate)
        {
            Live.Add(network);
            if (!_exitHooked)
            {
                AppDomain.CurrentDomain.ProcessExit += (_, _) => DisposeLive();
                _exitHooked = true;
            }
        }
        try
        {
            network.SetUp(useNetem, seed);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        return network;
    }

    /// <summary>The address a member slot has (or had) in this cluster's subnet.</summary>
    public string Address(int slot) => string.Create(CultureInfo.InvariantCulture, $"{Prefix}.{NetnsNames.FirstMemberHost + slot}");

    /// <summary>Creates the slot's namespace, veth and address; the member is started in it with <c>ip netns exec</c>.</summary>
    public NetnsMember AddSlot(int slot, string name)
    {
        if (slot >= NetnsNames.SlotsMax)
        {
            throw new NetnsException($"netns mode has room for {NetnsNames.SlotsMax} member slots per cluster");
        }
        var space = NetnsNames.Namespace(_owner, Id, name);
        var host = NetnsNames.HostLink(Id, slot);
        var address = Address(slot);
        try
        {
            HostCommand.Run(_log, NetnsSupport.Ip, ["netns", "add", space]);
            HostCommand.Run(_log, NetnsSupport.Ip, ["-n", space, "link", "set", "lo", "up"]);
            HostCommand.Run(_log, NetnsSupport.Ip, ["link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", space]);
            HostCommand.Run(_log, NetnsSupport.Ip, ["link", "set", "dev", host, "alias", NetnsNames.Alias(_owner, Id)]);
            HostCommand.Run(_log, NetnsSupport.Ip, ["link", "set", "dev", host, "master", Bridge]);
            HostCommand.Run(_log, NetnsSupport.Ip, ["link", "set", "dev", host, "up"]);
            HostCommand.Run(_log, NetnsSupport.Ip, ["-n", space, "addr", "add", address + "/24", "dev", "eth0"]);
            HostCommand.Run(_log, NetnsSupport.Ip, ["-n", space, "link", "set", "dev", "eth0", "up"]);
        }
        catch
        {
            DeleteNamespace(space, _log);
            HostCommand.TryRun(_log, NetnsSupport.Ip, ["link", "del", host]);
            throw;
        }
        var member = new NetnsMember(slot, name, address, host);
        lock (_gate)
        {
            _members[slot] = member;
            _namespaces[slot] = space;
        }
        Apply(); // a latency redirect in force covers the new member too
        return member;
    }

    /// <summary>The slot's namespace, or null once removed.</summary>
    public string? Namespace(int slot)
    {
        lock (_gate)
        {
            return _namespaces.GetValueOrDefault(slot);
        }
    }

    /// <summary>Deletes a removed member's namespace (killing anything still in it) and its veth.</summary>
    public void RemoveSlot(int slot)
    {
        string? space;
        string? host;
        lock (_gate)
        {
            if (!_namespaces.Remove(slot, out space))
            {
                return;
            }
            host = _members[slot].HostLink;
            _members[slot] = _members[slot] with { HostLink = null };
        }
        Apply();
        DeleteNamespace(space, _log);
        if (host is not null && LinkExists(host))
        {
            HostCommand.TryRun(_log, NetnsSupport.Ip, ["link", "del", host]);
        }
    }

    /// <summary>Renders the faults in force and applies them (one nft transaction); the delay line first when adding latency.</summary>
    public void Apply()
    {
        lock (_gate)
        {
            if (_disposed || _delayLine is null)
            {
                return;
            }
            var state = _faults.State;
            var script = NftRules.Render(new NetnsLayout(Table, _delayLine.Device, [.. _members.Values]), state);
            if (state.DelayMs > 0)
            {
                _delayLine.SetDelay(state.DelayMs, state.JitterMs);
            }
            if (script != _applied)
            {
                HostCommand.Run(_log, NetnsSupport.Nft, ["-f", "-"], script);
                _applied = script;
            }
            if (state.DelayMs == 0)
            {
                _delayLine.SetDelay(0, 0);
            }
        }
    }

    /// <summary>
    /// Removes the rules (first: whatever members still do at the end goes through), the delay line, every namespace
    /// (and whatever still runs in it), the members' veths and the bridge.
    /// </summary>
    public void Dispose()
    {
        List<string> spaces;
        List<string> hostLinks;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            spaces = [.. _namespaces.Values];
            hostLinks = [.. _members.Values.Select(member => member.HostLink).OfType<string>()];
            _namespaces.Clear();
        }
        _faults.Changed -= Apply;
        HostCommand.TryRun(_log, NetnsSupport.Nft, ["-f", "-"], NftRules.RenderRemoval(Table));
        _delayLine?.Dispose();
        foreach (var space in spaces)
        {
            DeleteNamespace(space, _log);
        }
        // A deleted namespace lives on while a socket in it still has something to send (a connection closed during a
        // partition retransmits for minutes), and its veth with it; deleting the host side takes both ends now.
        foreach (var link in hostLinks.Where(LinkExists))
        {
            HostCommand.TryRun(_log, NetnsSupport.Ip, ["link", "del", link]);
        }
        if (_bridgeMade)
        {
            HostCommand.TryRun(_log, NetnsSupport.Ip, ["link", "del", Bridge]);
        }
        var left = Leftovers();
        for (var attempt = 0; left.Count > 0 && attempt < 20; attempt++)
        {
            Thread.Sleep(100); // a veth goes a moment after its namespace
            left = Leftovers();
        }
        if (left.Count > 0)
        {
            var line = "parley torture: netns cleanup left " + string.Join(", ", left.Select(resource => resource.ToString()));
            lock (_log)
            {
                _log.WriteLine(line);
                _log.Flush();
            }
            Console.Error.WriteLine(line);
        }
        lock (LiveGate)
        {
            Live.Remove(this);
        }
    }

    /// <summary>What this cluster's network made that still exists (nothing, after <see cref="Dispose"/>).</summary>
    public IReadOnlyList<NetnsResource> Leftovers() => [.. Owned(_owner).Where(resource => resource.Name.Contains(Id, StringComparison.Ordinal))];

    /// <summary>
    /// Removes what netns mode made for processes that no longer exist (namespaces with whatever still runs in them,
    /// nftables tables, links), so that a run killed before it could clean up is cleaned up by the next.
    /// </summary>
    public static IReadOnlyList<NetnsResource> RemoveStale(TextWriter? log)
    {
        var stale = Owned(owner: null).Where(resource => !IsAlive(resource.Owner)).ToList();
        foreach (var resource in stale.OrderBy(resource => resource.Kind))
        {
            switch (resource.Kind)
            {
                case NetnsResourceKind.Namespace:
                    DeleteNamespace(resource.Name, log);
                    break;
                case NetnsResourceKind.Table:
                    HostCommand.TryRun(log, NetnsSupport.Nft, ["delete", "table", resource.Family!, resource.Name]);
                    break;
                case NetnsResourceKind.Link when LinkExists(resource.Name): // a veth goes with its namespace
                    HostCommand.TryRun(log, NetnsSupport.Ip, ["link", "del", resource.Name]);
                    break;
                default:
                    break;
            }
        }
        return stale;
    }

    /// <summary>What netns mode made that still exists, for one owning process (or every owner when null).</summary>
    public static IReadOnlyList<NetnsResource> Owned(int? owner)
    {
        var found = new List<NetnsResource>();
        foreach (var name in JsonStrings(HostCommand.TryRun(null, NetnsSupport.Ip, ["-j", "netns", "list"]).Output, "name"))
        {
            Add(NetnsResourceKind.Namespace, name, null, name);
        }
        using (var tables = ParseJson(HostCommand.TryRun(null, NetnsSupport.Nft, ["-j", "list", "tables"]).Output))
        {
            if (tables is not null && tables.RootElement.TryGetProperty("nftables", out var entries))
            {
                foreach (var entry in entries.EnumerateArray())
                {
                    if (entry.TryGetProperty("table", out var table) && table.GetProperty("name").GetString() is { } name)
                    {
                        Add(NetnsResourceKind.Table, name, table.GetProperty("family").GetString(), name);
                    }
                }
            }
        }
        using (var links = ParseJson(HostCommand.TryRun(null, NetnsSupport.Ip, ["-j", "link", "show"]).Output))
        {
            if (links is { RootElement.ValueKind: JsonValueKind.Array })
            {
                foreach (var link in links.RootElement.EnumerateArray())
                {
                    if (link.TryGetProperty("ifalias", out var alias) && alias.GetString() is { } text && link.GetProperty("ifname").GetString() is { } name)
                    {
                        Add(NetnsResourceKind.Link, name, null, text);
                    }
                }
            }
        }
        return found;

        void Add(NetnsResourceKind kind, string name, string? family, string named)
        {
            if (NetnsNames.Owner(named) is { } pid && (owner is null || owner == pid))
            {
                found.Add(new NetnsResource(kind, name, family, pid));
            }
        }
    }

    private void SetUp(bool useNetem, int seed)
    {
        var alias = NetnsNames.Alias(_owner, Id);
        using (HostLock.Acquire(Path.Combine(Path.GetTempPath(), "parley-torture-netns.lock"), TimeSpan.FromSeconds(30)))
        {
            // Chosen and taken under a host-wide lock: a concurrent run sees this subnet in the routes.
            var routes = JsonStrings(HostCommand.Run(_log, NetnsSupport.Ip, ["-j", "-4", "route", "show", "table", "all"]), "dst");
            Prefix = NetnsNames.ChooseSubnet(routes, new Random(seed ^ _owner).Next(155 * 256))
                ?? throw new NetnsException("no free 10.x.y.0/24 for the members' network");
            HostCommand.Run(_log, NetnsSupport.Ip, ["link", "add", Bridge, "type", "bridge"]);
            _bridgeMade = true;
            HostCommand.Run(_log, NetnsSupport.Ip, ["link", "set", "dev", Bridge, "alias", alias]);
            HostCommand.Run(_log, NetnsSupport.Ip, ["addr", "add", Gateway + "/24", "dev", Bridge]);
            HostCommand.Run(_log, NetnsSupport.Ip, ["link", "set", "dev", Bridge, "up"]);
        }
        if (useNetem)
        {
            _delayLine = NetemDelayLine.Create(NetnsNames.DelayLink(Id), NetnsNames.DelayBridgePort(Id), Bridge, alias, _log);
        }
        else
        {
            var tap = TapDelayLine.Create(NetnsNames.DelayLink(Id), seed);
            _delayLine = tap;
            HostCommand.Run(_log, NetnsSupport.Ip, ["link", "set", "dev", tap.Device, "alias", alias]);
            NetnsSupport.JoinBridgeAsDelayPort(tap.Device, Bridge, _log);
        }
        Apply();
        _faults.Changed += Apply;
    }

    private static string FreshId(TextWriter log)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var id = Random.Shared.Next(1 << 24).ToString("x6", CultureInfo.InvariantCulture);
            if (!LinkExists(NetnsNames.Bridge(id)))
            {
                return id;
            }
        }
        lock (log)
        {
            log.WriteLine("no unused network id after 20 attempts");
        }
        throw new NetnsException("no unused network id after 20 attempts");
    }

    private static bool LinkExists(string name) => HostCommand.TryRun(null, NetnsSupport.Ip, ["link", "show", "dev", name]).ExitCode == 0;

    /// <summary>SIGKILLs whatever runs in the namespace (a member a crashed run left behind), then deletes it.</summary>
    private static void DeleteNamespace(string space, TextWriter? log)
    {
        for (var round = 0; round < 50; round++)
        {
            var pids = HostCommand.TryRun(null, NetnsSupport.Ip, ["netns", "pids", space]).Output
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(text => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0).Where(pid => pid > 0).ToList();
            if (pids.Count == 0)
            {
                break;
            }
            foreach (var pid in pids)
            {
                try
                {
                    NativeSignals.Send(pid, NativeSignals.Kill);
                }
                catch (IOException)
                {
                    // gone already
                }
            }
            Thread.Sleep(100);
        }
        HostCommand.TryRun(log, NetnsSupport.Ip, ["netns", "del", space]);
    }

    private static bool IsAlive(int pid) => pid == Environment.ProcessId || Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));

    private static void DisposeLive()
    {
        List<NetnsNetwork> live;
        lock (LiveGate)
        {
            live = [.. Live];
        }
        foreach (var network in live)
        {
            network.Dispose();
        }
    }

    private static JsonDocument? ParseJson(string text)
    {
        try
        {
            return text.Trim().Length == 0 ? null : JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static List<string> JsonStrings(string json, string property)
    {
        using var document = ParseJson(json);
        var values = new List<string>();
        if (document?.RootElement.ValueKind == JsonValueKind.Array)
        {
            foreach (var element in document.RootElement.EnumerateArray())
            {
                if (element.TryGetProperty(property, out var value) && value.GetString() is { } text)
                {
                    values.Add(text);
                }
            }
        }
        return values;
    }
}
