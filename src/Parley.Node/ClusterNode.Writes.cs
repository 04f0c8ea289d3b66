using Parley.Mvcc;
using Parley.Raft;

namespace Parley.Node;

/// <summary>
/// Writes: proposed by the leader itself, or forwarded by a follower to the leader. A write completes when this member
/// applies its entry. When the leader changes, a write whose fate is unknown fails at once with "leader changed"; a
/// write known never to commit (refused, or its entry replaced by another) is proposed again — see README.md,
/// "Forwarded writes and leader changes", for why that cannot apply a write twice.
/// </summary>
public sealed partial class ClusterNode
{
    /// <summary>Forwarded proposals a leader remembers per term, so a forward delivered twice is appended once.</summary>
    private const int ForwardedRememberedMax = 65_536;

    private readonly Dictionary<ulong, PendingWrite> _writes = [];
    private readonly Queue<(ulong Id, long DeadlineTick)> _writeDeadlines = new();
    private readonly List<ulong> _unproposed = [];
    // Where our own writes sit in a leader's log: index → (proposal id, term). Filled when we propose as leader or a
    // leader answers our forward; when another entry is applied at that index, ours can never commit.
    private readonly Dictionary<ulong, (ulong Id, ulong Term)> _writeIndexes = [];
    // Forwarded writes whose leader has not answered yet, and the (leader, term) seen when they were last checked.
    private readonly HashSet<ulong> _awaitingAnswer = [];
    private (ulong Leader, ulong Term) _forwardView;
    // Leader only: forwarded proposals appended in _forwardedTerm, (origin, id) → index.
    private readonly Dictionary<(ulong Origin, ulong Id), ulong> _forwardedAppended = [];
    private readonly Queue<(ulong Origin, ulong Id)> _forwardedAppendedOrder = new();
    private ulong _forwardedTerm;
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
        _writes[id] = new PendingWrite(complete, deadline, new Proposal(_options.MemberId, id, command).Encode());
        _writeDeadlines.Enqueue((id, deadline));
        _unproposed.Add(id);
    }

    /// <summary>
    /// The leader receives encoded proposals that member <paramref name="from"/> forwarded; they are proposed unchanged
    /// and the origin is told where each landed — or, by a member that does not lead, that none was appended.
    /// </summary>
    public void ReceiveForwarded(ulong from, IReadOnlyList<byte[]> proposals)
    {
        if (proposals.Count == 0)
        {
            return;
        }
        if (_raft.Role != RaftRole.Leader || _raft.TransferTarget != 0)
        {
            _transport.SendForwardAnswer(from, ForwardAnswer.Refused(ForwardVerdict.NotLeader, _raft.Term, ProposalIdsOf(proposals)));
            return;
        }
        if (_forwardedTerm != _raft.Term)
        {
            // A leader's log only grows within its term, so what it appended earlier in this term is still there.
            _forwardedAppended.Clear();
            _forwardedAppendedOrder.Clear();
            _forwardedTerm = _raft.Term;
        }
        var appendedIds = new List<ulong>();
        var appendedIndexes = new List<ulong>();
        var batch = new List<ReadOnlyMemory<byte>>(proposals.Count);
        var batchKeys = new List<(ulong Origin, ulong Id)?>(proposals.Count);
        foreach (var proposal in proposals)
        {
            if (proposal.Length > 0 && proposal[0] == MemberEntries.Request)
            {
                ReceiveMemberRequest(proposal); // checked and proposed by the membership code (ClusterNode.Members.cs)
            }
            else if (!Proposal.TryReadOrigin(proposal, out var origin, out var id))
            {
                batch.Add(proposal); // malformed: every member skips it the same way when applying it
                batchKeys.Add(null);
            }
            else if (_forwardedAppended.TryGetValue((origin, id), out var index))
            {
                appendedIds.Add(id); // the same forward delivered twice: appended once, answered again
                appendedIndexes.Add(index);
            }
            else
            {
                batch.Add(proposal);
                batchKeys.Add((origin, id));
            }
        }
        if (batch.Count > 0)
        {
            var result = _raft.ProposeBatch(batch);
            if (!result.IsAccepted)
            {
                var verdict = result.Status == ProposeStatus.TooManyUncommittedBytes ? ForwardVerdict.TooManyRequests : ForwardVerdict.NotLeader;
                var refused = batchKeys.Where(key => key is not null).Select(key => key!.Value.Id).ToArray();
                _transport.SendForwardAnswer(from, ForwardAnswer.Refused(verdict, _raft.Term, refused));
            }
            else
            {
                for (var i = 0; i < batchKeys.Count; i++)
                {
                    if (batchKeys[i] is { } key)
                    {
                        RememberForwarded(key, result.Index + (ulong)i);
                        appendedIds.Add(key.Id);
                        appendedIndexes.Add(result.Index + (ulong)i);
                    }
                }
            }
        }
        if (appendedIds.Count > 0)
        {
            _transport.SendForwardAnswer(from, new ForwardAnswer(ForwardVerdict.Appended, _raft.Term, appendedIds, appendedIndexes));
        }
    }

    /// <summary>The leader's answer to proposals this member forwarded.</summary>
    public void ReceiveForwardAnswer(ForwardAnswer answer)
    {
        Invariant.Check(answer.Verdict != ForwardVerdict.Appended || answer.Indexes.Count == answer.ProposalIds.Count,
            "an appended forward names an index for each proposal");
        for (var i = 0; i < answer.ProposalIds.Count; i++)
        {
            var id = answer.ProposalIds[i];
            if (!_writes.TryGetValue(id, out var write) || write.Forward != ForwardState.AwaitingAnswer)
            {
                continue; // completed, failed, or already judged
            }
            _awaitingAnswer.Remove(id);
            switch (answer.Verdict)
            {
                case ForwardVerdict.Appended:
                    OnForwardAppended(id, write, answer.Indexes[i], answer.Term);
                    break;
                case ForwardVerdict.NotLeader:
                    write.Forward = ForwardState.Refused; // held until another member leads (no ping-pong with this one)
                    _unproposed.Add(id);
                    break;
                default:
                    FailWrite(id, NodeError.TooManyRequests);
                    break;
            }
        }
    }

    private static ulong[] ProposalIdsOf(IReadOnlyList<byte[]> proposals)
    {
        var ids = new List<ulong>(proposals.Count);
        foreach (var proposal in proposals)
        {
            if (Proposal.TryReadOrigin(proposal, out _, out var id))
            {
                ids.Add(id);
            }
        }
        return [.. ids];
    }

    private void RememberForwarded((ulong Origin, ulong Id) key, ulong index)
    {
        while (_forwardedAppended.Count >= ForwardedRememberedMax)
        {
            _forwardedAppended.Remove(_forwardedAppendedOrder.Dequeue());
        }
        _forwardedAppended[key] = index;
        _forwardedAppendedOrder.Enqueue(key);
    }

    private void OnForwardAppended(ulong id, PendingWrite write, ulong index, ulong term)
    {
        if (index > _applied)
        {
            write.Forward = ForwardState.Appended;
            _writeIndexes[index] = (id, term);
            return;
        }
        // The answer arrived after this member applied that index, and the write did not complete there: another
        // entry holds the index, so ours was replaced and can never commit. Unless that part of the log is gone.
        if (_log.TryGetTerm(index, out var appliedTerm) && appliedTerm != term)
        {
            ProposeAgain(id, write);
        }
        else
        {
            FailWrite(id, NodeError.LeaderChanged);
        }
    }

    /// <summary>The write is in no log that can ever commit it: propose it again (at whoever leads now).</summary>
    private void ProposeAgain(ulong id, PendingWrite write)
    {
        write.Forward = ForwardState.NotForwarded;
        _unproposed.Add(id);
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
            ForwardToLeader();
        }
        // No leader known: keep them until one is, or until their deadline.
    }

    private void ForwardToLeader()
    {
        var view = (_raft.Leader, _raft.Term);
        var payloads = new List<byte[]>(_unproposed.Count);
        var held = 0;
        for (var i = 0; i < _unproposed.Count; i++)
        {
            var id = _unproposed[i];
            if (!_writes.TryGetValue(id, out var write))
            {
                continue;
            }
            if (write.Forward == ForwardState.Refused && write.ForwardedIn == view)
            {
                _unproposed[held++] = id; // refused by the member we still believe leads: wait for news
                continue;
            }
            write.Forward = ForwardState.AwaitingAnswer;
            write.ForwardedIn = view;
            _awaitingAnswer.Add(id);
            payloads.Add(write.Payload);
        }
        _unproposed.RemoveRange(held, _unproposed.Count - held);
        if (payloads.Count > 0)
        {
            _transport.Forward(view.Leader, payloads);
        }
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
                if (_writes.TryGetValue(_unproposed[i], out var write))
                {
                    write.Forward = ForwardState.NotForwarded;
                    ids.Add(_unproposed[i]);
                    batch.Add(write.Payload);
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
                        _writeIndexes[result.Index + (ulong)i] = (ids[i], result.Term);
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

    /// <summary>
    /// The entry at <paramref name="index"/> is applied. If one of our writes was placed there and this entry is not
    /// it, ours was replaced: no log can commit it any more, so it is proposed again.
    /// </summary>
    private void OnIndexApplied(ulong index, ulong appliedProposalId)
    {
        if (_writeIndexes.Count == 0 || !_writeIndexes.Remove(index, out var placed) || placed.Id == appliedProposalId)
        {
            return;
        }
        if (_writes.TryGetValue(placed.Id, out var write))
        {
            ProposeAgain(placed.Id, write);
        }
    }

    /// <summary>
    /// Once per turn: a forwarded write the leader has not answered, when this member now sees another leader or term,
    /// may or may not have been appended (and may still commit): it fails at once, as etcd's "leader changed".
    /// </summary>
    private void FailUnansweredForwards()
    {
        var view = (_raft.Leader, _raft.Term);
        if (view == _forwardView)
        {
            return;
        }
        _forwardView = view;
        if (_awaitingAnswer.Count == 0)
        {
            return;
        }
        var changed = new List<ulong>();
        foreach (var id in _awaitingAnswer)
        {
            if (_writes.TryGetValue(id, out var write) && write.ForwardedIn != view)
            {
                changed.Add(id);
            }
        }
        foreach (var id in changed)
        {
            FailWrite(id, NodeError.LeaderChanged);
        }
    }

    /// <summary>A snapshot replaced the log up to <paramref name="index"/>: placements there can no longer be judged.</summary>
    private void ForgetWriteIndexesThrough(ulong index)
    {
        foreach (var placed in _writeIndexes.Keys.Where(placed => placed <= index).ToList())
        {
            _writeIndexes.Remove(placed); // those writes wait for their deadline
        }
    }

    private void FailWrite(ulong id, NodeError error)
    {
        _awaitingAnswer.Remove(id);
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
