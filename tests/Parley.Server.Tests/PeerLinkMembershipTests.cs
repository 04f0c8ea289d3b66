using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Parley.Raft;
using Parley.Server.Peer;

namespace Parley.Server.Tests;

/// <summary>
/// Peer links follow the membership where Raft alone would leave a member stuck:
/// - A member removed while its connections stay open is told so on them. The case: a leader asked to remove itself
///   hands over, and the new leader removes it; once that leader applies the removal it no longer sends to the removed
///   member, which may never have heard a commit past its removal. Its links stay connected and it sends only pings. A
///   peer that has applied the removal answers the next frame with the Removed notice, and the removed member stops.
/// - A member that is behind (down while another joined) answers the newcomer, which may lead by then: without a link
///   its acknowledgements were dropped and it never caught up to the entry that adds the newcomer (torture seed
///   334218: a restarted member could not serve a linearizable read for two minutes).
/// </summary>
public class PeerLinkMembershipTests
{
    [Fact]
    public async Task AConnectedMember_RemovedAfterItsHello_IsToldOnItsNextFrame()
    {
        var (optionsA, optionsB) = TwoMembers("peer-removal-test");
        var directoryA = MemberDirectory.ForNewCluster(optionsA);
        var directoryB = MemberDirectory.ForNewCluster(optionsB);
        await using var a = new PeerTransport(optionsA, directoryA, NullLogger.Instance);
        await using var b = new PeerTransport(optionsB, directoryB, NullLogger.Instance);
        var told = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        b.RemovedFromCluster = () => told.TrySetResult();
        a.Bind();
        b.Bind();
        a.Start(_ => true);
        b.Start(_ => true);

        LocalCluster.WaitUntil(() => b.Links.Single().IsConnected && directoryA.Members.Count == 2, TimeSpan.FromSeconds(10), "b connected to a");
        await Task.Delay(PeerLink.ProbeInterval + TimeSpan.FromSeconds(1)); // at least one ping after the Hello
        Assert.False(told.Task.IsCompleted, "b was told it was removed before it was");

        directoryA.UpdateRemoved([directoryB.SelfId]);
        var waited = await Task.WhenAny(told.Task, Task.Delay(2 * PeerLink.ProbeInterval + TimeSpan.FromSeconds(2)));
        Assert.True(waited == told.Task, "b, removed while connected, was not told so on its open connection");
    }

    [Fact]
    public async Task AMemberThatIsBehind_OpensALinkToAnUnknownMemberThatSaysHello_UntilItLearnsOfItsRemoval()
    {
        var ports = LocalPorts.Free(3);
        var urls = ports.Select(port => new Uri($"http://127.0.0.1:{port}")).ToArray();
        const string token = "peer-remote-test";
        var ids = urls.Select(url => MemberIdentity.MemberId([url], token)).ToArray();
        MemberDirectory.MemberInfo Info(int i) => new(ids[i], [urls[i].ToString()], IsLearner: false);
        ServerOptions Options(int i) => new()
        {
            Name = $"m{i + 1}",
            ListenPeerUrls = [urls[i]],
            InitialAdvertisePeerUrls = [urls[i]],
            InitialClusterToken = token,
        };
        // m2 is behind: its membership is m1, m2. m3 (not started m1 aside) knows all three and connects to m2.
        var behind = new MemberDirectory(0xC1, ids[1], token, [Info(0), Info(1)]);
        var newcomer = new MemberDirectory(0xC1, ids[2], token, [Info(0), Info(1), Info(2)]);
        await using var m2 = new PeerTransport(Options(1), behind, NullLogger.Instance);
        await using var m3 = new PeerTransport(Options(2), newcomer, NullLogger.Instance);
        m2.Bind();
        m3.Bind();
        m2.Start(_ => true);
        m3.Start(_ => true);

        LocalCluster.WaitUntil(() => m2.Links.Any(link => link.PeerId == ids[2] && link.IsConnected), TimeSpan.FromSeconds(10),
            "m2 has a connected link to m3, which is not in its membership");
        LocalCluster.WaitUntil(() => newcomer.Started(ids[1]) is { Name: "m2" }, TimeSpan.FromSeconds(10), "m3 heard m2's hello");

        // A membership update that still lacks m3 (m2 applies older entries) keeps the link.
        m2.UpdateMembers([Info(0), Info(1)]);
        Assert.Contains(m2.Links, link => link.PeerId == ids[2]);
        // m2 catches up to m3's addition: the link stays (now an ordinary member link).
        m2.UpdateMembers([Info(0), Info(1), Info(2)]);
        Assert.Contains(m2.Links, link => link.PeerId == ids[2]);
        // Then to its removal: the link goes.
        behind.UpdateRemoved([ids[2]]);
        m2.UpdateMembers([Info(0), Info(1)]);
        Assert.DoesNotContain(m2.Links, link => link.PeerId == ids[2]);
    }

    [Fact]
    public async Task WhatTheLoopSendsInATurn_GoesOutAtItsFlush_AndOtherThreadsSendAtOnce()
    {
        var (optionsA, optionsB) = TwoMembers("peer-flush-test");
        var directoryA = MemberDirectory.ForNewCluster(optionsA);
        var directoryB = MemberDirectory.ForNewCluster(optionsB);
        await using var a = new PeerTransport(optionsA, directoryA, NullLogger.Instance);
        await using var b = new PeerTransport(optionsB, directoryB, NullLogger.Instance);
        var delivered = 0; // posts to b's loop: one per socket read that carried Raft messages
        a.Bind();
        b.Bind();
        a.Start(_ => true);
        b.Start(_ => { Interlocked.Increment(ref delivered); return true; });
        LocalCluster.WaitUntil(() => a.Links.Single().IsConnected, TimeSpan.FromSeconds(10), "a connected to b");
        Message Heartbeat(ulong term) => new() { Type = MessageType.Heartbeat, From = directoryA.SelfId, To = directoryB.SelfId, Term = term };
        using var loop = new OneThread();

        // A thread running a loop's turn stages: nothing leaves until the turn's flush. (The test's thread stays marked
        // as in a turn for its life.)
        loop.Run(() => LoopTurn.Enter(loop));
        loop.Run(() =>
        {
            a.Send(Heartbeat(1));
            a.Send(Heartbeat(1));
        });
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.Equal(0, Volatile.Read(ref delivered));
        loop.Run(() => a.Flush());
        LocalCluster.WaitUntil(() => Volatile.Read(ref delivered) > 0, TimeSpan.FromSeconds(5), "b received the flushed messages");

        // Any other thread's send is queued at once.
        var before = Volatile.Read(ref delivered);
        a.Send(Heartbeat(2));
        LocalCluster.WaitUntil(() => Volatile.Read(ref delivered) > before, TimeSpan.FromSeconds(5), "b received a send from another thread");

        // A peer leaving the membership gets what the loop sent it in the same turn (how a removed member learns to stop).
        before = Volatile.Read(ref delivered);
        loop.Run(() =>
        {
            a.Send(Heartbeat(3));
            a.UpdateMembers(directoryA.Members.Where(member => member.Id == directoryA.SelfId).ToList());
        });
        Assert.Empty(a.Links);
        LocalCluster.WaitUntil(() => Volatile.Read(ref delivered) > before, TimeSpan.FromSeconds(5), "b received what was sent before its link drained");
    }

    [Fact]
    public async Task ASecondConnectionFromTheSameMember_ClosesTheFirst_WhoseReaderWouldOtherwiseWaitOnIt()
    {
        // Each incoming connection has a reader thread blocked in its receive. A member's link opens a new connection
        // when it gives up on the old one (after a partition, say), which may never see a FIN: the newer closes it.
        var (optionsA, optionsB) = TwoMembers("peer-replace-test");
        var directoryA = MemberDirectory.ForNewCluster(optionsA);
        var directoryB = MemberDirectory.ForNewCluster(optionsB);
        await using var a = new PeerTransport(optionsA, directoryA, NullLogger.Instance);
        a.Bind();
        a.Start(_ => true);
        var hello = new System.Buffers.ArrayBufferWriter<byte>();
        PeerCodec.WriteFrame(hello, PeerFrameType.Hello, output => PeerCodec.WriteHello(output, directoryB.ClusterId, directoryB.SelfId, "b", [], [optionsB.ListenPeerUrls[0].ToString()]));
        var ping = new System.Buffers.ArrayBufferWriter<byte>();
        PeerCodec.WriteFrame(ping, PeerFrameType.Ping, 7L, PeerCodec.WriteProbe);
        var port = optionsA.ListenPeerUrls[0].Port;

        var pong = new byte[PeerCodec.FrameHeaderBytes + 8];
        async Task<System.Net.Sockets.TcpClient> ConnectAndPing()
        {
            var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync("127.0.0.1", port);
            await client.GetStream().WriteAsync(hello.WrittenMemory);
            await client.GetStream().WriteAsync(ping.WrittenMemory);
            await client.GetStream().ReadExactlyAsync(pong).AsTask().WaitAsync(TimeSpan.FromSeconds(10)); // served
            return client;
        }

        using var first = await ConnectAndPing();
        using var second = await ConnectAndPing();
        Assert.Equal((byte)PeerFrameType.Pong, pong[4]);

        var read = await first.GetStream().ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, read); // closed by a
    }

    /// <summary>Options of members a and b of a new two-member cluster on free local ports.</summary>
    private static (ServerOptions A, ServerOptions B) TwoMembers(string clusterToken)
    {
        var urls = LocalPorts.Free(2).Select(port => new Uri($"http://127.0.0.1:{port}")).ToArray();
        (string, Uri[])[] initialCluster = [("a", [urls[0]]), ("b", [urls[1]])];
        ServerOptions Options(int i) => new()
        {
            Name = i == 0 ? "a" : "b",
            ListenPeerUrls = [urls[i]],
            InitialAdvertisePeerUrls = [urls[i]],
            InitialCluster = initialCluster,
            InitialClusterToken = clusterToken,
        };
        return (Options(0), Options(1));
    }

    /// <summary>Runs actions one at a time on one dedicated thread (a stand-in for the node loop).</summary>
    private sealed class OneThread : IDisposable
    {
        private readonly BlockingCollection<(Action Work, TaskCompletionSource Done)> _work = new();
        private readonly Thread _thread;

        public OneThread()
        {
            _thread = new Thread(() =>
            {
                foreach (var (work, done) in _work.GetConsumingEnumerable())
                {
                    try
                    {
                        work();
                        done.SetResult();
                    }
                    catch (Exception exception)
                    {
                        done.SetException(exception);
                    }
                }
            }) { IsBackground = true };
            _thread.Start();
        }

        public void Run(Action work)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _work.Add((work, done));
            done.Task.GetAwaiter().GetResult();
        }

        public void Dispose()
        {
            _work.CompleteAdding();
            _thread.Join();
            _work.Dispose();
        }
    }
}
