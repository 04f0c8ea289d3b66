using Parley.Mvcc;
using Parley.Raft;

namespace Parley.Node;

/// <summary>
/// Membership: etcd's MemberAdd (voter or learner), MemberPromote, MemberRemove, MemberUpdate and MoveLeader.
/// Requests go to the leader, which checks one at a time against the applied membership (etcd's strict
/// reconfiguration checks) and proposes a configuration change or a refusal; the origin completes its request when it
/// applies that entry. Peer URLs live in the replicated store (<see cref="MvccStore.Members"/>), so they travel in
/// snapshots; the host learns of every change through <see cref="MembersChanged"/>.
/// </summary>
public sealed partial class ClusterNode
{
    // etcd 3.4 allows one learner at a time and promotes one only within 90% of the leader's log.
    private const int LearnersMax = 1;
    private const double LearnerReadyFraction = 0.9;
    private const int LeavingHandOversMax = 3;

    private readonly Dictionary<ulong, PendingMemberChange> _memberWaits = [];
    // Requests (decoded) that wait for a leader: proposed in order by the leader, forwarded by a follower, dropped
    // once their origin has given up on them (a member cut off from the leader must not make a change long after its
    // client was told the request timed out).
    private readonly List<QueuedMemberRequest> _memberRequests = [];
    private IReadOnlyList<ClusterMember>? _membersView;
    private ulong _transferWait;
    private bool _membersChangedPending;
    // The index of our own removal once we applied it, and the highest commit index another member sent us as leader.
    private ulong _ownRemovalIndex;
    private ulong _commitHeardFromLeader;
    // Hand-overs tried, in this leadership, before removing ourselves (see TryHandOverBeforeLeaving).
    private int _leavingHandOvers;

    /// <summary>Runs on the loop thread after the membership or a member's peer URLs changed (also after a snapshot).</summary>
    public Action? MembersChanged { get; set; }

    /// <summary>
    /// This member applied its own removal and another member, as leader, has since told it that the removal committed:
    /// it is no longer part of the cluster and should stop (see <see cref="LeaveIfConfirmed"/>).
    /// </summary>
    public bool IsRemoved { get; private set; }

    /// <summary>Voters and learners in id order, with the peer URLs the replicated state holds (empty when it has none).</summary>
    public IReadOnlyList<ClusterMember> Members => _membersView ??= BuildMembers();

    /// <summary>
    /// Asks for a membership change; <paramref name="complete"/> runs on the loop thread once this member applied the
    /// leader's verdict, or when the request fails (no leader, timed out, stopped).
    /// </summary>
    public void SubmitMemberChange(MemberChange change, Action<MemberChangeResult> complete)
    {
        if (IsOverloaded())
        {
            complete(new MemberChangeResult(NodeError.TooManyRequests, MemberError.None, [], _raft.Term));
            return;
        }
        var id = _nextProposalId++;
        _memberWaits[id] = new PendingMemberChange(complete, _tick + _options.RequestTimeoutTicks);
        _memberRequests.Add(new QueuedMemberRequest(_options.MemberId, id, change, _tick + _options.RequestTimeoutTicks));
    }

    /// <summary>
    /// etcd's MoveLeader: only the leader may hand over, only to a voter; completes once this member sees the target
    /// lead, or fails after the request timeout.
    /// </summary>
    public void TransferLeadership(ulong target, Action<MemberChangeResult> complete)
    {
        MemberError refusal = _raft.Role != RaftRole.Leader ? MemberError.NotLeader
            : !_raft.Config.IsVoter(target) ? MemberError.BadTransferee
            : MemberError.None;
        if (refusal != MemberError.None || target == _options.MemberId)
        {
            complete(new MemberChangeResult(NodeError.None, refusal, Members, _raft.Term));
            return;
        }
        var id = _nextProposalId++;
        _memberWaits[id] = new PendingMemberChange(complete, _tick + _options.RequestTimeoutTicks, target);
        _transferWait = id;
        _raft.TransferLeadership(target);
    }

    private IReadOnlyList<ClusterMember> BuildMembers()
    {
        var urls = new Dictionary<ulong, IReadOnlyList<string>>();
        foreach (var record in _store.Members)
        {
            urls[record.Id] = record.PeerUrls;
        }
        return _raft.Config.Voters.Select(id => (Id: id, IsLearner: false))
            .Concat(_raft.Config.Learners.Select(id => (Id: id, IsLearner: true)))
            .OrderBy(member => member.Id)
            .Select(member => new ClusterMember(member.Id, urls.GetValueOrDefault(member.Id, []), member.IsLearner))
            .ToArray();
    }

    // The host hears of membership once per Ready, after all of its entries applied (a new cluster's bootstrap entries
    // add every member in one Ready: no partial membership in between).
    private void OnMembershipApplied()
    {
        _membersView = null;
        _membersChangedPending = true;
    }

    private void NotifyMembersChanged()
    {
        if (_membersChangedPending)
        {
            _membersChangedPending = false;
            MembersChanged?.Invoke();
        }
    }

    /// <summary>The leader's part of a turn: forwarded and own requests, one configuration change at a time.</summary>
    private void ProposeMemberRequests()
    {
        if (_memberRequests.Count == 0)
        {
            return;
        }
        _memberRequests.RemoveAll(request => request.DeadlineTick <= _tick);
        if (_raft.Role != RaftRole.Leader)
        {
            if (_raft.Leader != 0 && _memberRequests.Count > 0)
            {
                _transport.Forward(_raft.Leader, [.. _memberRequests.Select(request =>
                    MemberEntries.EncodeRequest(request.Origin, request.ProposalId, request.Change, request.DeadlineTick - _tick))]);
                _memberRequests.Clear();
            }
            return;
        }
        var handled = 0;
        foreach (var request in _memberRequests)
        {
            if (_raft.IsConfigChangePending || _raft.TransferTarget != 0)
            {
                break; // checked against the membership once the previous change applied
            }
            handled++;
            var change = request.Change;
            if (change.Kind == MemberChangeKind.Update)
            {
                _raft.Propose(MemberEntries.EncodeUpdate(request.Origin, request.ProposalId, change.MemberId, change.PeerUrls));
                continue;
            }
            var refusal = CheckMemberChange(change);
            if (refusal == MemberError.None && change.Kind == MemberChangeKind.Remove && change.MemberId == _options.MemberId)
            {
                if (TryHandOverBeforeLeaving())
                {
                    handled--;
                    break; // the request stays queued and goes to the next leader, which removes us
                }
                refusal = MemberError.Unhealthy;
            }
            if (refusal == MemberError.None)
            {
                var result = _raft.ProposeConfigChange(ToConfigChange(request));
                refusal = result.Status switch
                {
                    ProposeStatus.Accepted => MemberError.None,
                    ProposeStatus.InvalidConfigChange => MemberError.NotEnoughStarted,
                    _ => MemberError.None,
                };
                if (result.Status is ProposeStatus.ConfigChangePending or ProposeStatus.LeadershipTransferInProgress)
                {
                    handled--;
                    break;
                }
            }
            if (refusal != MemberError.None)
            {
                _raft.Propose(MemberEntries.EncodeRefusal(request.Origin, request.ProposalId, refusal));
            }
        }
        _memberRequests.RemoveRange(0, handled);
    }

    /// <summary>
    /// The leader was asked to remove itself. Leaving as leader is the awkward way out: it steps down as soon as it
    /// applies its own removal, the others may not have heard that the removal committed (one lost message, a follower
    /// down at that moment; in a cluster of two voters, or with a voter dead, they then need the removed member for a
    /// quorum of the old membership, etcd-io/etcd#10563), and no other leader may ever tell it so it can stop
    /// (<see cref="LeaveIfConfirmed"/>). So the leader hands over first, to the connected remaining voter with the
    /// longest log, and the new leader removes it like any other member (with the health checks) and tells it. False
    /// when no voter can take over after a few tries.
    /// </summary>
    private bool TryHandOverBeforeLeaving()
    {
        if (_leavingHandOvers >= LeavingHandOversMax)
        {
            return false;
        }
        ulong successor = 0;
        ulong successorMatch = 0;
        foreach (var voter in _raft.Config.Voters)
        {
            if (voter != _options.MemberId && _raft.Progress.TryGetValue(voter, out var progress) && progress.IsConnected &&
                (successor == 0 || progress.Match > successorMatch))
            {
                successor = voter;
                successorMatch = progress.Match;
            }
        }
        if (successor == 0)
        {
            return false;
        }
        _leavingHandOvers++;
        _raft.TransferLeadership(successor);
        return true;
    }

    /// <summary>A forwarded membership request arrives at the leader (a follower forwards to whoever leads).</summary>
    private void ReceiveMemberRequest(byte[] payload)
    {
        MemberEntry request;
        try
        {
            request = MemberEntries.Decode(payload);
        }
        catch (FormatException)
        {
            return; // nothing to propose
        }
        if (request.Type == MemberEntries.Request && request.Change is { } change)
        {
            // Never longer than this member's own request timeout, whatever the sender says.
            _memberRequests.Add(new QueuedMemberRequest(request.Origin, request.ProposalId, change,
                _tick + Math.Min(request.TicksLeft, _options.RequestTimeoutTicks)));
        }
    }

    /// <summary>A membership request (who asked, its id, the change) and the tick after which its origin no longer waits for it.</summary>
    private readonly record struct QueuedMemberRequest(ulong Origin, ulong ProposalId, MemberChange Change, long DeadlineTick);

    private static ConfigChange ToConfigChange(QueuedMemberRequest request)
    {
        var change = request.Change;
        var type = change.Kind switch
        {
            MemberChangeKind.AddVoter or MemberChangeKind.Promote => ConfigChangeType.AddVoter,
            MemberChangeKind.AddLearner => ConfigChangeType.AddLearner,
            _ => ConfigChangeType.RemoveNode,
        };
        var urls = change.Kind is MemberChangeKind.AddVoter or MemberChangeKind.AddLearner ? change.PeerUrls : [];
        return new ConfigChange(type, change.MemberId, MemberEntries.EncodeContext(request.Origin, request.ProposalId, urls));
    }

    /// <summary>etcd's checks before a configuration change, against the applied membership and the leader's progress.</summary>
    private MemberError CheckMemberChange(MemberChange change)
    {
        var config = _raft.Config;
        switch (change.Kind)
        {
            case MemberChangeKind.AddVoter:
            case MemberChangeKind.AddLearner:
                if (config.IsMember(change.MemberId) || _store.RemovedMembers.Contains(change.MemberId))
                {
                    return MemberError.IdExists;
                }
                if (PeerUrlsTaken(change.MemberId, change.PeerUrls))
                {
                    return MemberError.PeerUrlExists;
                }
                if (change.Kind == MemberChangeKind.AddLearner)
                {
                    return config.Learners.Count >= LearnersMax ? MemberError.TooManyLearners : MemberError.None;
                }
                return !IsReadyToAddVoter() ? MemberError.NotEnoughStarted
                    : !_raft.Config.Voters.All(IsConnected) ? MemberError.Unhealthy
                    : MemberError.None;
            case MemberChangeKind.Promote:
                if (!config.IsMember(change.MemberId))
                {
                    return MemberError.NotFound;
                }
                if (!config.IsLearner(change.MemberId))
                {
                    return MemberError.NotLearner;
                }
                if (!IsLearnerReady(change.MemberId))
                {
                    return MemberError.LearnerNotReady;
                }
                return IsReadyToAddVoter() ? MemberError.None : MemberError.NotEnoughStarted;
            case MemberChangeKind.Remove:
                if (!config.IsMember(change.MemberId))
                {
                    return MemberError.NotFound;
                }
                if (!config.IsVoter(change.MemberId))
                {
                    return MemberError.None;
                }
                var remaining = config.Voters.Where(voter => voter != change.MemberId).ToArray();
                return !IsReadyToRemoveVoter(change.MemberId) ? MemberError.NotEnoughStarted
                    : change.MemberId != _options.MemberId && remaining.Count(IsConnected) < remaining.Length / 2 + 1 ? MemberError.Unhealthy
                    : MemberError.None;
            default:
                return MemberError.None;
        }
    }

    private bool PeerUrlsTaken(ulong memberId, IReadOnlyList<string> peerUrls) =>
        Members.Any(member => member.Id != memberId && member.PeerUrls.Intersect(peerUrls, StringComparer.Ordinal).Any());

    /// <summary>Started, as the leader sees it: itself, and every member that has answered it.</summary>
    private bool IsStarted(ulong id) =>
        id == _options.MemberId || (_raft.Progress.TryGetValue(id, out var progress) && (progress.RecentActive || progress.Match > 0));

    /// <summary>Connected, as the leader sees it: heard from within the last one or two election timeouts.</summary>
    private bool IsConnected(ulong id) =>
        id == _options.MemberId || (_raft.Progress.TryGetValue(id, out var progress) && progress.IsConnected);

    // etcd's IsReadyToAddVotingMember: after the change, the started voters must still be a majority. Adding a second
    // voter to a one-member cluster is allowed (etcd does, for restoring a cluster from one member).
    private bool IsReadyToAddVoter()
    {
        var voters = _raft.Config.Voters;
        var started = voters.Count(IsStarted);
        var after = voters.Count + 1;
        return (started == 1 && after == 2) || started >= after / 2 + 1;
    }

    // etcd's IsReadyToRemoveVotingMember: the voters that remain must have a started majority among them.
    private bool IsReadyToRemoveVoter(ulong id)
    {
        var remaining = _raft.Config.Voters.Where(voter => voter != id).ToArray();
        return remaining.Length > 0 && remaining.Count(IsStarted) >= remaining.Length / 2 + 1;
    }

    private bool IsLearnerReady(ulong id)
    {
        var leaderMatch = _raft.Log.LastIndex;
        return _raft.Progress.TryGetValue(id, out var progress) && progress.Match >= leaderMatch * LearnerReadyFraction;
    }

    /// <summary>Applies a configuration change entry: Raft's configuration, the member table, the origin's request.</summary>
    private void ApplyConfigChange(Entry entry)
    {
        var change = ConfigChange.Decode(entry.Data.Span);
        (ulong Origin, ulong ProposalId, string[] PeerUrls) context;
        try
        {
            context = MemberEntries.DecodeContext(change.Context.Span);
        }
        catch (FormatException)
        {
            context = (0, 0, []);
        }
        _raft.ApplyConfigChange(change);
        if (change.Type == ConfigChangeType.RemoveNode)
        {
            _store.RemoveMember(change.NodeId);
            if (change.NodeId == _options.MemberId)
            {
                _ownRemovalIndex = entry.Index;
                LeaveIfConfirmed();
            }
        }
        else if (context.PeerUrls.Length > 0)
        {
            _store.SetMember(new ClusterMemberRecord(change.NodeId, context.PeerUrls));
        }
        OnMembershipApplied();
        CompleteMemberRequest(context.Origin, context.ProposalId, MemberError.None);
    }

    /// <summary>Applies a member entry that is not a configuration change: a refusal, or a peer URL update.</summary>
    private void ApplyMemberEntry(Entry entry)
    {
        MemberEntry decoded;
        try
        {
            decoded = MemberEntries.Decode(entry.Data.Span);
        }
        catch (FormatException)
        {
            return; // skipped the same way on every member
        }
        if (decoded.Type == MemberEntries.Update && decoded.Change is { } update)
        {
            var error = !_raft.Config.IsMember(update.MemberId) ? MemberError.NotFound
                : PeerUrlsTaken(update.MemberId, update.PeerUrls) ? MemberError.PeerUrlExists
                : MemberError.None;
            if (error == MemberError.None)
            {
                _store.SetMember(new ClusterMemberRecord(update.MemberId, update.PeerUrls));
                OnMembershipApplied();
            }
            CompleteMemberRequest(decoded.Origin, decoded.ProposalId, error);
        }
        else if (decoded.Type == MemberEntries.Refusal)
        {
            CompleteMemberRequest(decoded.Origin, decoded.ProposalId, decoded.Refusal);
        }
    }

    private void CompleteMemberRequest(ulong origin, ulong proposalId, MemberError error)
    {
        if (origin == _options.MemberId && _memberWaits.Remove(proposalId, out var wait))
        {
            wait.Complete(new MemberChangeResult(NodeError.None, error, Members, _raft.Term));
        }
    }

    /// <summary>
    /// A member that applied its own removal stops (<see cref="IsRemoved"/>) only once another member, as leader, sent it
    /// a commit index at or past the removal. That leader committed the removal and synced that commit before saying so,
    /// and it is in the new membership, so the rest can go on without us. Until then we keep running, as a follower that
    /// never campaigns (we are not in our own membership) but still votes and acknowledges: when we committed our own
    /// removal as leader, the others may not know it yet and may need us for a quorum of the old membership. If no
    /// leader ever tells us (the new membership no longer sends to us once it applied the removal), the host stops us
    /// when a peer that applied the removal refuses our connection (the server's peer transport answers a removed
    /// member's next frame so); until then we stay in that state, harmless.
    /// </summary>
    private void LeaveIfConfirmed()
    {
        if (_ownRemovalIndex != 0 && _commitHeardFromLeader >= _ownRemovalIndex)
        {
            IsRemoved = true;
        }
    }

    private void NoteCommitFromLeader(Message message)
    {
        if (message.From == _options.MemberId)
        {
            return;
        }
        var commit = message.Type switch
        {
            MessageType.Append or MessageType.Heartbeat => message.Commit,
            MessageType.InstallSnapshot => message.Snapshot?.Metadata.Index ?? 0,
            _ => 0UL,
        };
        _commitHeardFromLeader = Math.Max(_commitHeardFromLeader, commit);
    }

    /// <summary>Each turn: a leadership move completes when the target leads; requests past their deadline fail.</summary>
    private void TendMemberWaits()
    {
        LeaveIfConfirmed();
        if (_transferWait != 0 && _memberWaits.TryGetValue(_transferWait, out var transfer) && _raft.Leader == transfer.TransferTarget)
        {
            _memberWaits.Remove(_transferWait);
            _transferWait = 0;
            transfer.Complete(new MemberChangeResult(NodeError.None, MemberError.None, Members, _raft.Term));
        }
        if (_memberWaits.Count == 0)
        {
            return;
        }
        List<ulong>? expired = null;
        foreach (var (id, wait) in _memberWaits)
        {
            if (wait.DeadlineTick <= _tick)
            {
                (expired ??= []).Add(id);
            }
        }
        foreach (var id in expired ?? [])
        {
            _memberWaits.Remove(id, out var wait);
            var result = wait!.TransferTarget != 0
                ? new MemberChangeResult(NodeError.None, MemberError.TransferTimedOut, Members, _raft.Term)
                : new MemberChangeResult(_raft.Leader == 0 ? NodeError.NoLeader : NodeError.TimedOut, MemberError.None, [], _raft.Term);
            wait.Complete(result);
        }
    }

    private void FailMemberWaits(NodeError error)
    {
        foreach (var wait in _memberWaits.Values)
        {
            wait.Complete(new MemberChangeResult(error, MemberError.None, [], _raft.Term));
        }
        _memberWaits.Clear();
        _memberRequests.Clear();
        _transferWait = 0;
    }
}
