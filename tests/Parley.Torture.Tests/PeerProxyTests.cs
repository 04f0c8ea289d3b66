using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Parley.Server;
using Parley.Server.Peer;
using Parley.Torture;

namespace Parley.Torture.Tests;

public sealed class PeerProxyTests
{
    private static byte[] Frame(byte type, byte[] payload)
    {
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, payload.Length + 1);
        frame[4] = type;
        payload.CopyTo(frame, 5);
        return frame;
    }

    private static byte[] Hello(string name)
    {
        var buffer = new ArrayBufferWriter<byte>();
        PeerCodec.WriteFrame(buffer, PeerFrameType.Hello, output => PeerCodec.WriteHello(output, 7, 42, name, ["http://127.0.0.1:2379"], ["http://127.0.0.1:2380"]));
        return buffer.WrittenSpan.ToArray();
    }

    private static int SlotOf(string name) => name switch { "m1" or JoinerUrl => 0, "m2" => 1, _ => -1 };

    [Fact]
    public async Task Proxy_ForwardsWholeFrames_AndDropsThemOnABlockedLink()
    {
        var target = new TcpListener(IPAddress.Loopback, 0);
        target.Start();
        var faults = new LinkFaults(seed: 1);
        var proxyPort = LocalPorts.Free(1)[0];
        var proxy = new PeerProxy(1, proxyPort, ((IPEndPoint)target.LocalEndpoint).Port, SlotOf, faults);
        await using (proxy.ConfigureAwait(false))
        {
            proxy.Start();
            using var sender = new TcpClient();
            await sender.ConnectAsync(IPAddress.Loopback, proxyPort);
            var output = sender.GetStream();
            await output.WriteAsync(Hello("m1"));
            await output.WriteAsync(Frame(2, [1, 2, 3]));
            using var receiver = await target.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(30));
            var input = receiver.GetStream();

            var hello = new byte[Hello("m1").Length];
            await input.ReadExactlyAsync(hello).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(Hello("m1"), hello);
            var first = new byte[8];
            await input.ReadExactlyAsync(first).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(Frame(2, [1, 2, 3]), first);

            faults.Block(0, 1); // m1 -> m2 cut: the next frame vanishes
            await output.WriteAsync(Frame(2, [4, 5, 6]));
            await WaitForAsync(() => faults.FramesDropped == 1);
            faults.Unblock(0, 1);
            await output.WriteAsync(Frame(2, [7, 8, 9]));
            var next = new byte[8];
            await input.ReadExactlyAsync(next).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(Frame(2, [7, 8, 9]), next);
        }
        target.Stop();
    }

    [Fact]
    public async Task Proxy_RelaysRepliesBack_UnlessTheReverseDirectionIsCut()
    {
        var target = new TcpListener(IPAddress.Loopback, 0);
        target.Start();
        var faults = new LinkFaults(seed: 1);
        var proxyPort = LocalPorts.Free(1)[0];
        var proxy = new PeerProxy(1, proxyPort, ((IPEndPoint)target.LocalEndpoint).Port, SlotOf, faults);
        await using (proxy.ConfigureAwait(false))
        {
            proxy.Start();
            using var sender = new TcpClient();
            await sender.ConnectAsync(IPAddress.Loopback, proxyPort);
            await sender.GetStream().WriteAsync(Hello("m1"));
            using var receiver = await target.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(30));
            var hello = new byte[Hello("m1").Length];
            await receiver.GetStream().ReadExactlyAsync(hello).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

            byte[] Pong(byte stamp) => Frame(10, [stamp, 0, 0, 0, 0, 0, 0, 0]);
            faults.Block(1, 0); // m2 -> m1 cut: the reply vanishes
            await receiver.GetStream().WriteAsync(Pong(1));
            await WaitForAsync(() => faults.FramesDropped == 1);
            faults.Unblock(1, 0);
            await receiver.GetStream().WriteAsync(Pong(2));
            var reply = new byte[Pong(2).Length];
            await sender.GetStream().ReadExactlyAsync(reply).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(Pong(2), reply);
        }
        target.Stop();
    }

    [Fact]
    public async Task Proxy_PassesTheRemovedNotice_WhenTheMemberHangsUpRightAfter()
    {
        var target = new TcpListener(IPAddress.Loopback, 0);
        target.Start();
        var faults = new LinkFaults(seed: 1);
        var proxyPort = LocalPorts.Free(1)[0];
        var proxy = new PeerProxy(1, proxyPort, ((IPEndPoint)target.LocalEndpoint).Port, SlotOf, faults);
        await using (proxy.ConfigureAwait(false))
        {
            proxy.Start();
            using var sender = new TcpClient();
            await sender.ConnectAsync(IPAddress.Loopback, proxyPort);
            await sender.GetStream().WriteAsync(Hello("m1"));
            var removed = Frame(12, [42, 0, 0, 0, 0, 0, 0, 0]);
            using (var receiver = await target.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(30)))
            {
                var hello = new byte[Hello("m1").Length];
                await receiver.GetStream().ReadExactlyAsync(hello).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                await receiver.GetStream().WriteAsync(removed);
            } // and hangs up, as a member does after telling a removed member so
            for (var i = 0; i < 20; i++)
            {
                try
                {
                    await sender.GetStream().WriteAsync(Frame(2, [1, 2, 3])); // the caller keeps sending meanwhile
                }
                catch (IOException)
                {
                    break;
                }
            }
            var notice = new byte[removed.Length];
            await sender.GetStream().ReadExactlyAsync(notice).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(removed, notice);
            Assert.Equal(0, await sender.GetStream().ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        }
        target.Stop();
    }

    /// <summary>A JoinQuery from the member at <c>http://127.0.0.1:7</c> (m1 in <see cref="SlotOf"/>).</summary>
    private static byte[] JoinQuery()
    {
        var buffer = new ArrayBufferWriter<byte>();
        PeerCodec.WriteFrame(buffer, PeerFrameType.JoinQuery, output => PeerCodec.WriteJoinQuery(output, [JoinerUrl]));
        return buffer.WrittenSpan.ToArray();
    }

    private const string JoinerUrl = "http://127.0.0.1:7";

    [Fact]
    public async Task Proxy_RelaysAJoinQuery_AndItsAnswerBack_UnlessTheLinkIsCut()
    {
        var target = new TcpListener(IPAddress.Loopback, 0);
        target.Start();
        var faults = new LinkFaults(seed: 1);
        var proxyPort = LocalPorts.Free(1)[0];
        var proxy = new PeerProxy(1, proxyPort, ((IPEndPoint)target.LocalEndpoint).Port, SlotOf, faults);
        await using (proxy.ConfigureAwait(false))
        {
            proxy.Start();
            using (var joiner = new TcpClient())
            {
                await joiner.ConnectAsync(IPAddress.Loopback, proxyPort);
                await joiner.GetStream().WriteAsync(JoinQuery());
                using (var member = await target.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(30)))
                {
                    var received = new byte[JoinQuery().Length];
                    await member.GetStream().ReadExactlyAsync(received).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                    Assert.Equal(JoinQuery(), received);
                    await member.GetStream().WriteAsync(Frame(7, [9, 9, 9]));
                }
                var answer = new byte[8];
                await joiner.GetStream().ReadExactlyAsync(answer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                Assert.Equal(Frame(7, [9, 9, 9]), answer);
            }

            faults.Block(0, 1); // the joiner (m1) cannot reach m2: the query goes nowhere and the connection closes
            using (var joiner = new TcpClient())
            {
                await joiner.ConnectAsync(IPAddress.Loopback, proxyPort);
                await joiner.GetStream().WriteAsync(JoinQuery());
                var read = await joiner.GetStream().ReadAsync(new byte[8]).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                Assert.Equal(0, read);
                Assert.False(target.Pending());
            }
        }
        target.Stop();
    }

    [Fact]
    public void LinkFaults_BlocksOneDirection_AndOverlappingPartitionsHealSeparately()
    {
        var faults = new LinkFaults(seed: 1);
        faults.Block(0, 1);
        faults.Block(0, 1);
        Assert.True(faults.Decide(0, 1).Drop);
        Assert.False(faults.Decide(1, 0).Drop);
        faults.Unblock(0, 1);
        Assert.True(faults.IsBlocked(0, 1));
        faults.Unblock(0, 1);
        Assert.False(faults.Decide(0, 1).Drop);
        faults.SetDelay(100, 0);
        Assert.Equal(100, faults.Decide(2, 0).DelayMs);
        faults.SetLossRate(1.0);
        Assert.True(faults.Decide(2, 0).Drop);
        faults.HealAll();
        Assert.Equal((false, 0), faults.Decide(2, 0));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var attempt = 0; attempt < 300 && !condition(); attempt++)
        {
            await Task.Delay(100);
        }
        Assert.True(condition());
    }
}
