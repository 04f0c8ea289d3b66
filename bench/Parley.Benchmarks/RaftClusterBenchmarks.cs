using BenchmarkDotNet.Attributes;
using Parley.Raft;

namespace Parley.Benchmarks;

/// <summary>
/// The Raft core's cost per committed entry in a 3-member cluster in one thread: the leader proposes
/// (one entry, or a batch of 64), then every member handles its Ready (send, persist to
/// MemoryStorage, send after persist, advance) and messages are delivered until the cluster is
/// quiet, so each proposal is committed and applied on all three members. No I/O or network: this
/// is the protocol's CPU and allocation cost only. Payloads are 256 B.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class RaftClusterBenchmarks
{
    private const int BatchEntries = 64;
    private const int PayloadBytes = 256;
    private const ulong CompactEveryEntries = 16_384;

    private readonly ReadOnlyMemory<byte>[] _single = [new byte[PayloadBytes]];
    private readonly ReadOnlyMemory<byte>[] _batch = Enumerable.Range(0, BatchEntries).Select(_ => (ReadOnlyMemory<byte>)new byte[PayloadBytes]).ToArray();
    private readonly Queue<Message> _network = new();
    private RaftNode[] _nodes = [];
    private MemoryStorage[] _storages = [];
    private ulong _compactedTo;

    [GlobalSetup]
    public void ElectLeader()
    {
        ulong[] voters = [1, 2, 3];
        _storages = [.. voters.Select(_ => MemoryStorage.WithMembers(voters))];
        _nodes = [.. voters.Select(id => new RaftNode(new RaftOptions { Id = id }, _storages[id - 1], new Random(MvccWorkload.Seed + (int)id)))];
        _nodes[0].Campaign(transfer: false);
        Stabilize();
        MvccWorkload.Require(_nodes[0].Role == RaftRole.Leader, "member 1 leads after its campaign");
    }

    [Benchmark(OperationsPerInvoke = 1)]
    public ulong ProposeOneAndCommit() => ProposeAndCommit(_single);

    [Benchmark(OperationsPerInvoke = BatchEntries)]
    public ulong ProposeBatchOf64AndCommit() => ProposeAndCommit(_batch);

    private ulong ProposeAndCommit(ReadOnlyMemory<byte>[] commands)
    {
        ProposeResult result = _nodes[0].ProposeBatch(commands);
        MvccWorkload.Require(result.IsAccepted, "the leader accepts");
        Stabilize();
        ulong applied = _nodes[0].Log.Applied;
        if (applied - _compactedTo >= CompactEveryEntries)
        {
            // Keep memory flat over millions of invocations: every member has applied this far.
            foreach (MemoryStorage storage in _storages)
            {
                storage.Compact(applied);
            }
            _compactedTo = applied;
        }
        return applied;
    }

    private void Stabilize()
    {
        bool progressed = true;
        while (progressed)
        {
            progressed = false;
            for (int index = 0; index < _nodes.Length; index++)
            {
                RaftNode node = _nodes[index];
                while (node.HasReady)
                {
                    Ready ready = node.GetReady();
                    Send(ready.Messages);
                    if (ready.Snapshot is { } snapshot)
                    {
                        _storages[index].ApplySnapshot(snapshot);
                    }
                    _storages[index].Append(ready.Entries);
                    if (ready.HardState is { } hardState)
                    {
                        _storages[index].SetHardState(hardState);
                    }
                    Send(ready.MessagesAfterPersist);
                    node.Advance(ready);
                    progressed = true;
                }
            }
            while (_network.TryDequeue(out Message? message))
            {
                _nodes[message.To - 1].Step(message);
                progressed = true;
            }
        }
    }

    private void Send(IReadOnlyList<Message> messages)
    {
        for (int index = 0; index < messages.Count; index++)
        {
            _network.Enqueue(messages[index]);
        }
    }
}
