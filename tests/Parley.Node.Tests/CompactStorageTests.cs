using Parley.Mvcc;
using Parley.Raft;
using Parley.Storage;

namespace Parley.Node.Tests;

/// <summary>Defragment's work in the node: snapshot now, release the WAL segments it covers, lose nothing.</summary>
public class CompactStorageTests
{
    private static readonly StorageOptions SmallSegments = new() { SegmentSizeBytes = 64 * 1024 };

    [Fact]
    public void CompactStorage_ReleasesWalSegments_AndARestartKeepsEveryKey()
    {
        var fileSystem = new SimulatedFileSystem(new Random(5));
        var identity = new StorageIdentity(77, 1);
        var storage = MemberStorage.Open(fileSystem, "/data", identity, SmallSegments);
        var node = StartSingleMember(storage);
        for (var i = 0; i < 1_500; i++)
        {
            WriteResult? result = null;
            node.SubmitWrite(WriteCommand.Put(new PutRequest { Key = System.Text.Encoding.UTF8.GetBytes($"key{i:D4}"), Value = new byte[100] }), done => result = done);
            node.Process();
            Assert.Equal(NodeError.None, result?.Error);
        }
        var (before, after) = node.CompactStorage();
        Assert.True(before > 2, $"{before} segments before");
        Assert.True(after < before, $"{before} segments before, {after} after");
        Assert.Equal((after, after), node.CompactStorage()); // nothing applied since: nothing to do
        var revision = node.Store.Revision;
        storage.Dispose();

        var reopened = MemberStorage.Open(fileSystem, "/data", identity, SmallSegments);
        var restarted = StartSingleMember(reopened);
        Assert.Equal(revision, restarted.Store.Revision);
        Assert.Equal(1_500, restarted.Store.KeyCount);
        reopened.Dispose();
    }

    private static ClusterNode StartSingleMember(MemberStorage storage)
    {
        var node = new ClusterNode(new NodeOptions { MemberId = 1, InitialVoters = [1] }, storage, new NoPeers(), new Random(1));
        for (var i = 0; i < 100 && !node.GetStatus().IsLeader; i++)
        {
            node.Tick();
            node.Process();
        }
        Assert.True(node.GetStatus().IsLeader);
        node.Process();
        return node;
    }
}
