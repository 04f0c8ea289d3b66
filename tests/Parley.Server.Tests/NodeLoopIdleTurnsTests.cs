using Microsoft.Extensions.Logging.Abstractions;
using Parley.Node;
using Parley.Node.Tests;
using Parley.Storage;

namespace Parley.Server.Tests;

/// <summary>
/// Idle turns on callers (<see cref="NodeLoop.TryPost"/>): after a run of one-input turns the loop thread waits, and the
/// thread that posts runs the turn itself; with the option off, every turn runs on the loop thread.
/// </summary>
public sealed class NodeLoopIdleTurnsTests : IDisposable
{
    private const int Attempts = 20;

    private readonly List<IDisposable> _owned = [];

    [Fact]
    public async Task AfterOneInputTurns_ThePostingThreadRunsTheTurn()
    {
        var loop = StartLoop(idleTurnsOnCallers: true, onFatal: exception => throw exception);
        await MakeTurnsSparse(loop);

        var ranHere = false;
        for (var attempt = 0; attempt < Attempts && !ranHere; attempt++)
        {
            // A tick may wake the loop thread between the wait and the post: then that turn runs there; try again.
            LocalCluster.WaitUntil(() => loop.IsIdleForCallers, TimeSpan.FromSeconds(10), "the loop waits with its turns left to callers");
            var poster = Environment.CurrentManagedThreadId;
            var ranOn = 0;
            var answer = loop.QueryAsync(_ => ranOn = Environment.CurrentManagedThreadId);
            ranHere = ranOn == poster; // set before QueryAsync returned: the turn ran inside the post
            Assert.Equal(ranOn, await answer.WaitAsync(TimeSpan.FromSeconds(10)));
        }
        Assert.True(ranHere, $"in {Attempts} posts to an idle loop, none ran its turn on the posting thread");
    }

    [Fact]
    public async Task WithTheOptionOff_EveryTurnRunsOnTheLoopThread()
    {
        var loop = StartLoop(idleTurnsOnCallers: false, onFatal: exception => throw exception);
        await MakeTurnsSparse(loop);

        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            Assert.False(loop.IsIdleForCallers);
            var ranOn = await loop.QueryAsync(_ => Thread.CurrentThread.Name).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("parley-node", ranOn);
        }
    }

    [Fact]
    public async Task AFailureInACallersTurn_StopsTheLoopAsOneOnItsOwnThreadWould()
    {
        var fatal = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var loop = StartLoop(idleTurnsOnCallers: true, onFatal: exception => fatal.TrySetResult(exception));
        await MakeTurnsSparse(loop);

        var poster = Environment.CurrentManagedThreadId;
        var ranOn = 0;
        for (var attempt = 0; attempt < Attempts && !fatal.Task.IsCompleted; attempt++)
        {
            LocalCluster.WaitUntil(() => loop.IsIdleForCallers, TimeSpan.FromSeconds(10), "the loop waits with its turns left to callers");
            Assert.True(loop.TryPost(_ =>
            {
                if (Environment.CurrentManagedThreadId == poster) // a turn the loop thread took instead does nothing: try again
                {
                    ranOn = poster;
                    throw new InvalidOperationException("broken turn");
                }
            }));
        }

        var exception = await fatal.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("broken turn", exception.Message);
        Assert.Equal(poster, ranOn);
        Assert.False(loop.TryPost(_ => { }), "a stopped loop takes no more input");
    }

    public void Dispose()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }
    }

    private NodeLoop StartLoop(bool idleTurnsOnCallers, Action<Exception> onFatal)
    {
        var storage = MemberStorage.Open(new SimulatedFileSystem(new Random(3)), "/data", new StorageIdentity(9, 1));
        _owned.Add(storage);
        var node = new ClusterNode(new NodeOptions { MemberId = 1, InitialVoters = [1] }, storage, new NoPeers(), new Random(1));
        var loop = new NodeLoop(node, TimeSpan.FromMilliseconds(10), NullLogger.Instance, onFatal, postersRunIdleTurns: idleTurnsOnCallers);
        _owned.Add(loop);
        loop.Start();
        LocalCluster.WaitUntil(() => loop.Status.IsLeader, TimeSpan.FromSeconds(30), "the single member leads");
        return loop;
    }

    /// <summary>Turns that each drain one input, as a lone client's do, more than the loop counts before it idles.</summary>
    private static async Task MakeTurnsSparse(NodeLoop loop)
    {
        for (var i = 0; i < 12; i++)
        {
            await loop.QueryAsync(_ => i).WaitAsync(TimeSpan.FromSeconds(10));
        }
    }
}
