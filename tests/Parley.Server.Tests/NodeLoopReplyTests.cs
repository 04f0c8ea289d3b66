using Microsoft.Extensions.Logging.Abstractions;
using Parley.Mvcc;
using Parley.Node;
using Parley.Node.Tests;
using Parley.Storage;

namespace Parley.Server.Tests;

/// <summary>
/// Where <see cref="NodeLoop"/> completes its answers: a turn's one small answer on the loop thread itself (a lone
/// client's put leaves without a thread hop), anything else on the thread pool.
/// </summary>
public sealed class NodeLoopReplyTests : IDisposable
{
    private const string LoopThread = "parley-node";

    private readonly MemberStorage _storage;
    private readonly NodeLoop _loop;

    public NodeLoopReplyTests()
    {
        _storage = MemberStorage.Open(new SimulatedFileSystem(new Random(3)), "/data", new StorageIdentity(9, 1));
        var node = new ClusterNode(new NodeOptions { MemberId = 1, InitialVoters = [1] }, _storage, new NoPeers(), new Random(1));
        _loop = new NodeLoop(node, TimeSpan.FromMilliseconds(10), NullLogger.Instance, exception => throw exception);
        _loop.Start();
        LocalCluster.WaitUntil(() => _loop.Status.IsLeader, TimeSpan.FromSeconds(30), "the single member leads");
    }

    [Fact]
    public async Task ATurnsOnlySmallAnswer_IsCompletedOnTheLoopThread()
    {
        var reply = new LoopReply<WriteResult>(_loop, _ => true);
        var continuedOn = reply.Task.ContinueWith(_ => Thread.CurrentThread.Name, TaskContinuationOptions.ExecuteSynchronously);
        Assert.True(_loop.TryPost(node => node.SubmitWrite(Put("a"), reply.Post)));

        Assert.Equal(NodeError.None, (await reply.Task.WaitAsync(TimeSpan.FromSeconds(10))).Error);
        Assert.Equal(LoopThread, await continuedOn);
    }

    [Fact]
    public async Task AnAnswerThatIsNotSmall_AndATurnsSeveralAnswers_GoToTheThreadPool()
    {
        var large = new LoopReply<WriteResult>(_loop, _ => false);
        var largeOn = large.Task.ContinueWith(_ => Thread.CurrentThread.Name, TaskContinuationOptions.ExecuteSynchronously);
        Assert.True(_loop.TryPost(node => node.SubmitWrite(Put("b"), large.Post)));
        await large.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotEqual(LoopThread, await largeOn);

        // Two puts proposed in one turn commit together: their answers leave in one turn, together, from the pool.
        var first = new LoopReply<WriteResult>(_loop, _ => true);
        var second = new LoopReply<WriteResult>(_loop, _ => true);
        var firstOn = first.Task.ContinueWith(_ => Thread.CurrentThread.Name, TaskContinuationOptions.ExecuteSynchronously);
        var secondOn = second.Task.ContinueWith(_ => Thread.CurrentThread.Name, TaskContinuationOptions.ExecuteSynchronously);
        Assert.True(_loop.TryPost(node =>
        {
            node.SubmitWrite(Put("c"), first.Post);
            node.SubmitWrite(Put("d"), second.Post);
        }));
        await Task.WhenAll(first.Task, second.Task).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.NotEqual(LoopThread, await firstOn);
        Assert.NotEqual(LoopThread, await secondOn);
    }

    [Fact]
    public async Task IsSmall_AFailureAlways_AResultAsItsPredicateSays()
    {
        var noPredicate = new LoopReply<int>(_loop);
        Assert.False(noPredicate.IsSmall);
        var judged = new LoopReply<int>(_loop, value => value < 10);
        Assert.True(_loop.TryPost(_ => judged.Post(3)));
        Assert.Equal(3, await judged.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(judged.IsSmall);
        var failed = new LoopReply<int>(_loop, _ => false);
        Assert.True(_loop.TryPost(_ => failed.PostException(new InvalidOperationException("no"))));
        await Assert.ThrowsAsync<InvalidOperationException>(() => failed.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(failed.IsSmall);
    }

    public void Dispose()
    {
        _loop.Dispose();
        _storage.Dispose();
    }

    private static WriteCommand Put(string key) =>
        WriteCommand.Put(new PutRequest { Key = System.Text.Encoding.UTF8.GetBytes(key), Value = new byte[8] });
}
