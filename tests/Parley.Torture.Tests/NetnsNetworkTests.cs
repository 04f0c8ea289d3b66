using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Parley.Torture;

namespace Parley.Torture.Tests;

/// <summary>
/// Netns mode's network on real namespaces (root only): what each fault does to real packets between members (UDP
/// datagrams sent from one member's namespace to another's), that clients in the root namespace are never cut off,
/// that members run with their own process id inside their namespace, and that nothing is left behind.
/// </summary>
[Collection("torture")]
public sealed class NetnsNetworkTests
{
    private const int Port = 9000;

    /// <summary>A UDP socket in a member's namespace (or in the root namespace, for a client).</summary>
    private sealed class Node(UdpClient socket) : IDisposable
    {
        public UdpClient Socket { get; } = socket;

        public IPEndPoint EndPoint => (IPEndPoint)Socket.Client.LocalEndPoint!;

        public void Dispose() => Socket.Dispose();
    }

    private static Node Add(NetnsNetwork network, int slot)
    {
        var member = network.AddSlot(slot, "m" + (slot + 1));
        var space = network.Namespace(slot)!;
        return new Node(InNamespace.Create(space, () => new UdpClient(new IPEndPoint(IPAddress.Parse(member.Address), Port))));
    }

    /// <summary>Datagrams from <paramref name="from"/> that reach <paramref name="to"/> within the wait (sent 1 ms apart).</summary>
    private static async Task<int> DeliveredAsync(UdpClient from, Node to, int count = 3, int waitMs = 400)
    {
        while (to.Socket.Available > 0)
        {
            await to.Socket.ReceiveAsync();
        }
        for (var i = 0; i < count; i++)
        {
            await from.SendAsync(new byte[] { 1 }, to.EndPoint);
            await Task.Delay(1);
        }
        var received = 0;
        using var wait = new CancellationTokenSource(waitMs);
        try
        {
            while (received < count)
            {
                await to.Socket.ReceiveAsync(wait.Token);
                received++;
            }
        }
        catch (OperationCanceledException)
        {
            // the rest did not come
        }
        return received;
    }

    [NetnsFact]
    public async Task Faults_DropAndDelayRealPacketsBetweenMembers_NeverToClients_AndHealRestoresEverything()
    {
        var faults = new LinkFaults(seed: 3);
        using var log = new StringWriter();
        var network = NetnsNetwork.Create(faults, NetnsSupport.Probe.HasNetem, seed: 3, log);
        try
        {
            using var m1 = Add(network, 0);
            using var m2 = Add(network, 1);
            using var m3 = Add(network, 2);
            using var client = new Node(new UdpClient(new IPEndPoint(IPAddress.Parse(network.Gateway), 0))); // the root namespace
            Assert.Equal(3, await DeliveredAsync(m1.Socket, m2));
            Assert.Equal(3, await DeliveredAsync(m2.Socket, m1));

            faults.Block([(0, 1), (0, 2)]); // asymmetric: m1's packets to the others are dropped, it still hears them
            Assert.Equal(0, await DeliveredAsync(m1.Socket, m2));
            Assert.Equal(0, await DeliveredAsync(m1.Socket, m3));
            Assert.Equal(3, await DeliveredAsync(m2.Socket, m1));
            Assert.Equal(3, await DeliveredAsync(m3.Socket, m1));
            Assert.Equal(3, await DeliveredAsync(m2.Socket, m3));
            faults.Unblock([(0, 1), (0, 2)]);

            faults.Block([(2, 0), (0, 2), (2, 1), (1, 2)]); // {m3} | {m1,m2}
            Assert.Equal(0, await DeliveredAsync(m3.Socket, m1));
            Assert.Equal(0, await DeliveredAsync(m2.Socket, m3));
            Assert.Equal(3, await DeliveredAsync(m1.Socket, m2));
            Assert.Equal(3, await DeliveredAsync(client.Socket, m3)); // clients are not partitioned
            Assert.Equal(3, await DeliveredAsync(m3.Socket, client));
            faults.HealAll();
            Assert.Equal(3, await DeliveredAsync(m3.Socket, m1));

            faults.SetLossRate(0.5);
            var delivered = await DeliveredAsync(m1.Socket, m2, count: 200, waitMs: 1_000);
            Assert.InRange(delivered, 60, 140); // 100 expected; 140 is more than 5 standard deviations away
            Assert.Equal(50, await DeliveredAsync(client.Socket, m2, count: 50)); // not to clients
            faults.SetLossRate(0);

            faults.SetDelay(150, 0);
            Assert.InRange(await OneWayMsAsync(m1.Socket, m2), 140, 1_000);
            Assert.InRange(await OneWayMsAsync(client.Socket, m2), 0, 100); // clients are not slowed
            using var m4 = Add(network, 3); // a member added while the latency is in force gets it too
            Assert.InRange(await OneWayMsAsync(m4.Socket, m1), 140, 1_000);
            faults.HealAll();
            Assert.InRange(await OneWayMsAsync(m1.Socket, m2), 0, 100);

            network.RemoveSlot(3);
            Assert.Null(network.Namespace(3));
            Assert.DoesNotContain(NetnsNetwork.Owned(Environment.ProcessId), resource => resource.Name.EndsWith("-m4", StringComparison.Ordinal));
        }
        finally
        {
            network.Dispose();
        }
        Assert.Empty(network.Leftovers());
    }

    private static async Task<double> OneWayMsAsync(UdpClient from, Node to)
    {
        while (to.Socket.Available > 0)
        {
            await to.Socket.ReceiveAsync();
        }
        var sent = Stopwatch.GetTimestamp();
        await from.SendAsync(new byte[] { 2 }, to.EndPoint);
        using var wait = new CancellationTokenSource(5_000);
        await to.Socket.ReceiveAsync(wait.Token);
        return Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
    }

    [NetnsFact]
    public async Task Member_StartedWithIpNetnsExec_HasItsOwnProcessId_InsideItsNamespace()
    {
        using var log = new StringWriter();
        var network = NetnsNetwork.Create(new LinkFaults(seed: 1), NetnsSupport.Probe.HasNetem, seed: 1, log);
        var output = Path.GetTempFileName();
        try
        {
            network.AddSlot(0, "m1");
            using var process = MemberLauncher.Start(network.Namespace(0), output, ["sleep", "60"]);
            // sh execs ip, which enters the namespace and execs the member: one process id throughout.
            await TortureCluster.WaitUntilAsync(() => Task.FromResult(File.ReadAllText($"/proc/{process.Id}/comm").Trim() == "sleep"),
                TimeSpan.FromSeconds(10), "the process became the member", CancellationToken.None);
            var identified = HostCommand.Run(null, NetnsSupport.Ip, ["netns", "identify", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            Assert.Equal(network.Namespace(0), identified.Trim());
            NativeSignals.Send(process.Id, NativeSignals.Stop);
            await TortureCluster.WaitUntilAsync(() => Task.FromResult(State(process.Id) == 'T'), TimeSpan.FromSeconds(10), "stopped", CancellationToken.None);
            NativeSignals.Send(process.Id, NativeSignals.Continue);
            await TortureCluster.WaitUntilAsync(() => Task.FromResult(State(process.Id) == 'S'), TimeSpan.FromSeconds(10), "running again", CancellationToken.None);
            process.Kill();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(10)));
            Assert.Empty(HostCommand.Run(null, NetnsSupport.Ip, ["netns", "pids", network.Namespace(0)!]).Trim());
        }
        finally
        {
            network.Dispose();
            File.Delete(output);
        }
        Assert.Empty(network.Leftovers());
    }

    private static char State(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[stat.LastIndexOf(')') + 2];
    }

    [NetnsFact]
    public void RemoveStale_RemovesWhatADeadRunLeft_AndLeavesALiveRunsAlone()
    {
        var dead = DeadProcessId();
        var deadSpace = NetnsNames.Namespace(dead, "dead00", "m1");
        var deadTable = NetnsNames.Table(dead, "dead00");
        var deadLink = NetnsNames.Bridge("dead00");
        var liveSpace = NetnsNames.Namespace(Environment.ProcessId, "a11ve0", "m1");
        try
        {
            HostCommand.Run(null, NetnsSupport.Ip, ["netns", "add", deadSpace]);
            HostCommand.Run(null, NetnsSupport.Ip, ["netns", "add", liveSpace]);
            HostCommand.Run(null, NetnsSupport.Nft, ["add", "table", "bridge", deadTable]);
            HostCommand.Run(null, NetnsSupport.Ip, ["link", "add", deadLink, "type", "bridge"]);
            HostCommand.Run(null, NetnsSupport.Ip, ["link", "set", "dev", deadLink, "alias", NetnsNames.Alias(dead, "dead00")]);
            // A member of the dead run still running in its namespace.
            using var orphan = MemberLauncher.Start(deadSpace, "/dev/null", ["sleep", "60"]);
            TortureCluster.WaitUntilAsync(() => Task.FromResult(File.ReadAllText($"/proc/{orphan.Id}/comm").Trim() == "sleep"),
                TimeSpan.FromSeconds(10), "the orphan runs", CancellationToken.None).GetAwaiter().GetResult();

            var removed = NetnsNetwork.RemoveStale(log: null);

            Assert.Contains(removed, resource => resource is { Kind: NetnsResourceKind.Namespace } && resource.Name == deadSpace);
            Assert.Contains(removed, resource => resource is { Kind: NetnsResourceKind.Table, Family: "bridge" } && resource.Name == deadTable);
            Assert.Contains(removed, resource => resource is { Kind: NetnsResourceKind.Link } && resource.Name == deadLink);
            Assert.DoesNotContain(NetnsNetwork.Owned(dead), _ => true);
            Assert.True(orphan.WaitForExit(TimeSpan.FromSeconds(10)), "the orphaned member was killed");
            Assert.Contains(NetnsNetwork.Owned(Environment.ProcessId), resource => resource.Name == liveSpace);
        }
        finally
        {
            HostCommand.TryRun(null, NetnsSupport.Ip, ["netns", "del", liveSpace]);
            HostCommand.TryRun(null, NetnsSupport.Ip, ["netns", "del", deadSpace]);
            HostCommand.TryRun(null, NetnsSupport.Nft, ["delete", "table", "bridge", deadTable]);
            HostCommand.TryRun(null, NetnsSupport.Ip, ["link", "del", deadLink]);
        }
    }

    private static int DeadProcessId()
    {
        var pidMax = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        for (var pid = pidMax - 1; pid > 1; pid--)
        {
            if (!Directory.Exists($"/proc/{pid}"))
            {
                return pid;
            }
        }
        throw new InvalidOperationException("no unused process id");
    }
}
