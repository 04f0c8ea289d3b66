using Microsoft.Extensions.Logging.Abstractions;
using Parley.Server.Peer;

namespace Parley.Server.Tests;

/// <summary>
/// A member removed while its connections stay open is told so on them. The case: a leader asked to remove itself
/// hands over, and the new leader removes it; once that leader applies the removal it no longer sends to the removed
/// member, which may never have heard a commit past its removal. Its links stay connected and it sends only pings. A
/// peer that has applied the removal answers the next frame with the Removed notice, and the removed member stops.
/// </summary>
public class PeerRemovalTests
{
    [Fact]
    public async Task AConnectedMember_RemovedAfterItsHello_IsToldOnItsNextFrame()
    {
        var ports = LocalCluster.FreePorts(2);
        var urls = ports.Select(port => new Uri($"http://127.0.0.1:{port}")).ToArray();
        (string, Uri[])[] initialCluster = [("a", [urls[0]]), ("b", [urls[1]])];
        ServerOptions Options(int i) => new()
        {
            Name = i == 0 ? "a" : "b",
            ListenPeerUrls = [urls[i]],
            InitialAdvertisePeerUrls = [urls[i]],
            InitialCluster = initialCluster,
            InitialClusterToken = "peer-removal-test",
        };
        var directoryA = MemberDirectory.ForNewCluster(Options(0));
        var directoryB = MemberDirectory.ForNewCluster(Options(1));
        await using var a = new PeerTransport(Options(0), directoryA, NullLogger.Instance);
        await using var b = new PeerTransport(Options(1), directoryB, NullLogger.Instance);
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
}
