using Parley.Mvcc;
using Parley.Raft;

namespace Parley.Node;

public sealed partial class ClusterNode
{
    private readonly Dictionary<ulong, PendingWrite> _writes = [];
    private readonly Queue<(ulong Id, long DeadlineTick)> _writeDeadlines = new();
    private readonly List<(ulong Id, byte[] Payload)> _unproposed = [];
    // Leader only: where each of our own proposals landed, to fail it at once if another entry takes its place.
    private readonly Dictionary<ulong, ulong> _writeIndexes = [];
    private ulong _nextProposalId;

    /// <summary>
    /// Queues a write; it is proposed with everything else queued this turn (on a follower: forwarded to the
    /// leader) and completes when this member applies it. <paramref name="complete"/> runs on the loop thread.
    /// </summary>
    public void SubmitWrite(WriteCommand command, Action<WriteResult> complete)
    {
        if (IsOverloaded())
        {
            _proposalsFailed++;
            complete(WriteResult.Failed(NodeError.TooManyRequests, _raft.Term));
            return;
        }
        var id = _nextProposalId++;
        var deadline = _tick + _options.RequestTimeoutTicks;
        _writes[id] = new PendingWrite(complete, deadline);
        _writeDeadlines.Enqueue((id, deadline));
        _unproposed.Add((id, new Proposal(_options.MemberId, id, command).Encode()));
    }

    /// <summary>The leader receives encoded proposals a follower forwarded; they are proposed unchanged.</summary>
    public void ReceiveForwarded(IReadOnlyList<byte[]> proposals)
    {
        if (_raft.Role != RaftRole.Leader || proposals.Count == 0)
        {
            return; // the origin times out; it forwards to whoever it believes leads
        }
        var batch = new List<ReadOnlyMemory<byte>>(proposals.Count);
        foreach (var proposal in proposals)
        {
            if (proposal.Length > 0 && proposal[0] == MemberEntries.Request)
            {
                ReceiveMemberRequest(proposal);
            }
            else
            {
                batch.Add(proposal);
            }
        }
        if (batch.Count > 0)
        {
            _raft.ProposeBatch(batch);
        }
    }

    private bool IsOverloaded() =>
        PendingRequests >= _options.PendingRequestsMax ||
        _raft.Log.Committed > _applied + _options.CommittedAheadOfAppliedMax;

    private void ProposePending()
    {
        if (_unproposed.Count == 0)
        {
            return;
        }
        if (_raft.Role == RaftRole.Leader)
        {
            ProposeAsLeader();
        }
        else if (_raft.Leader != 0)
        {
            var payloads = new List<byte[]>(_unproposed.Count);
            foreach (var (id, payload) in _unproposed)
            {
                if (_writes.ContainsKey(id))
                {
                    payloads.Add(payload);
                }
            }
            _transport.Forward(_raft.Leader, payloads);
            _unproposed.Clear();
        }
        // No leader known: keep them until one is, or until their deadline.
    }

    private void ProposeAsLeader()
    {
        var start = 0;
        while (start < _unproposed.Count)
        {
            var count = Math.Min(_options.ProposalsPerBatchMax, _unproposed.Count - start);
            var ids = new List<ulong>(count);
            var batch = new List<ReadOnlyMemory<byte>>(count);
            for (var i = start; i < start + count; i++)
            {
                if (_writes.ContainsKey(_unproposed[i].Id))
                {
                    ids.Add(_unproposed[i].Id);
                    batch.Add(_unproposed[i].Payload);
                }
            }
            if (batch.Count > 0)
            {
                var result = _raft.ProposeBatch(batch);
                if (result.Status == ProposeStatus.LeadershipTransferInProgress)
                {
                    _unproposed.RemoveRange(0, start);
                    return; // retried next turn, at whoever leads then
                }
                for (var i = 0; i < ids.Count; i++)
                {
                    if (result.IsAccepted)
                    {
                        _writeIndexes[result.Index + (ulong)i] = ids[i];
                    }
                    else
                    {
                        FailWrite(ids[i], result.Status == ProposeStatus.TooManyUncommittedBytes ? NodeError.TooManyRequests : NodeError.LeaderChanged);
                    }
                }
            }
            start += count;
        }
        _unproposed.Clear();
    }

    /// <summary>The entry at <paramref name="index"/> is applied; if we proposed another one there, ours was truncated.</summary>
    private void FailTruncatedWrite(ulong index, ulong appliedProposalId)
    {
        if (_writeIndexes.Count == 0 || !_writeIndexes.Remove(index, out var id) || id == appliedProposalId)
        {
            return;
        }
        FailWrite(id, NodeError.LeaderChanged);
    }

    private void FailWrite(ulong id, NodeError error)
    {
        if (_writes.Remove(id, out var write))
        {
            _proposalsFailed++;
            write.Complete(WriteResult.Failed(error, _raft.Term));
        }
    }

    private void ExpireWrites()
    {
        while (_writeDeadlines.Count > 0 && _writeDeadlines.Peek().DeadlineTick <= _tick)
        {
            var (id, _) = _writeDeadlines.Dequeue();
            FailWrite(id, _raft.Leader == 0 ? NodeError.NoLeader : NodeError.TimedOut);
        }
        if (_writeIndexes.Count > 0 && _writes.Count == 0)
        {
            _writeIndexes.Clear();
        }
    }
}
