using Parley.Mvcc;
using Parley.Raft;

namespace Parley.Node;

/// <summary>
/// Leases' clocks. What a lease is (id, TTL, attached keys, last checkpointed remaining TTL) is replicated state in
/// the MVCC store; when it runs out is decided here, by the leader alone (etcd's primary lessor), in ticks. The leader
/// becomes primary once it has applied an entry of its own term (so it knows every lease), gives each lease its
/// checkpointed remaining TTL (or its full TTL) plus one election timeout, and from then on renews leases on
/// keepalive, proposes a revoke through Raft for each lease that runs out (its keys go in one revision), and every
/// checkpoint interval replicates remaining TTLs, so that leader changes resume leases instead of restarting them.
/// Members answer KeepAlive and TimeToLive by asking the leader (<see cref="INodeTransport.SendLeaseQuery"/>).
/// </summary>
public sealed partial class ClusterNode
{
    /// <summary>etcd's maxLeaseCheckpointBatchSize.</summary>
    private const int LeaseCheckpointsPerEntryMax = 1_000;

    /// <summary>etcd's leaseRevokeRate: expiries proposed per second at most.</summary>
    private const int LeaseRevokesPerSecondMax = 1_000;

    /// <summary>An expired lease whose revoke did not apply is proposed again after this long (etcd: 3 s).</summary>
    private const int LeaseRevokeRetrySeconds = 3;

    /// <summary>Questions from other members held while this new leader is not yet primary.</summary>
    private const int RemoteLeaseQueriesMax = 10_000;

    // Primary lessor (leader only; dropped on demotion, rebuilt from the store at promotion).
    private readonly Dictionary<long, long> _leaseExpiryTicks = [];
    private readonly PriorityQueue<long, long> _leaseExpiryQueue = new();
    private readonly HashSet<long> _leasesRevoking = [];
    private readonly HashSet<ulong> _leaseCheckpointProposals = [];
    private bool _lessorPrimary;
    private long _lessorTick = -1;
    private long _nextLeaseCheckpointTick;

    // Questions asked at this member.
    private readonly Dictionary<ulong, PendingLeaseQuery> _leaseQueries = [];
    private readonly Queue<(ulong Id, long DeadlineTick)> _leaseQueryDeadlines = new();
    private readonly List<ulong> _leaseQueriesUndispatched = [];
    private readonly List<(ulong From, LeaseQuery Query)> _remoteLeaseQueries = [];
    private ulong _leaseQueriesTarget;
    private ulong _nextLeaseQueryId;

    /// <summary>True while this member is the leader and keeps leases' clocks.</summary>
    public bool IsLessorPrimary => _lessorPrimary;

    /// <summary>
    /// Asks the leader a lease question on behalf of a client of this member. <paramref name="complete"/> runs on the
    /// loop thread with the leader's answer, or with an error (no leader, timed out, overloaded, stopped).
    /// </summary>
    public void SubmitLeaseQuery(LeaseQueryKind kind, long leaseId, bool withKeys, Action<LeaseAnswer> complete)
    {
        if (IsOverloaded())
        {
            complete(LeaseAnswer.Failed(0, NodeError.TooManyRequests, leaseId, _raft.Term));
            return;
        }
        var id = _nextLeaseQueryId++;
        _leaseQueries[id] = new PendingLeaseQuery(new LeaseQuery(id, kind, leaseId, withKeys), complete);
        _leaseQueryDeadlines.Enqueue((id, _tick + _options.RequestTimeoutTicks));
        _leaseQueriesUndispatched.Add(id);
    }

    /// <summary>A member asks this one (as leader) a lease question; the answer goes back to <paramref name="from"/>.</summary>
    public void ReceiveLeaseQuery(ulong from, LeaseQuery query)
    {
        if (_raft.Role != RaftRole.Leader)
        {
            return; // the asker sends it again to whoever leads next, or times out
        }
        if (!_lessorPrimary)
        {
            if (_remoteLeaseQueries.Count < RemoteLeaseQueriesMax)
            {
                _remoteLeaseQueries.Add((from, query));
            }
            return;
        }
        AnswerLeaseQuery(query, answer => _transport.SendLeaseAnswer(from, answer));
    }

    /// <summary>The leader's answer to a question this member asked.</summary>
    public void ReceiveLeaseAnswer(LeaseAnswer answer) => CompleteLeaseQuery(answer);

    /// <summary>Remaining ticks of a lease as the primary lessor sees it; null when not primary or unknown.</summary>
    public long? LeaseRemainingTicks(long leaseId) =>
        _lessorPrimary && _leaseExpiryTicks.TryGetValue(leaseId, out var expiry) && !_leasesRevoking.Contains(leaseId)
            ? Math.Max(0, expiry - _tick)
            : null;

    private void TendLeases()
    {
        UpdateLessorRole();
        if (_lessorPrimary && _tick != _lessorTick)
        {
            _lessorTick = _tick;
            ExpireLeases();
            CheckpointLeases();
        }
        DispatchLeaseQueries();
        ExpireLeaseQueries();
    }

    private void UpdateLessorRole()
    {
        if (_raft.Role != RaftRole.Leader)
        {
            _remoteLeaseQueries.Clear();
            if (_lessorPrimary)
            {
                _lessorPrimary = false;
                _leaseExpiryTicks.Clear();
                _leaseExpiryQueue.Clear();
                _leasesRevoking.Clear();
                _leaseCheckpointProposals.Clear();
            }
            return;
        }
        // Primary only after applying an entry of its own term: every lease granted before is in the store by then.
        if (!_lessorPrimary && _log.TryGetTerm(_applied, out var term) && term == _raft.Term)
        {
            PromoteLessor();
        }
    }

    private void PromoteLessor()
    {
        _lessorPrimary = true;
        foreach (var id in _store.LeaseIds())
        {
            _store.TryGetLeaseTtl(id, out var ttl, out var remaining);
            // Never early: the old leader may have renewed just before it died; the extra election timeout covers
            // the time nobody led (etcd's "extend").
            SetLeaseExpiry(id, _tick + SecondsToTicks(remaining > 0 ? remaining : ttl) + _options.ElectionTimeoutTicks);
        }
        _nextLeaseCheckpointTick = _tick + _options.LeaseCheckpointIntervalTicks;
        foreach (var (from, query) in _remoteLeaseQueries)
        {
            AnswerLeaseQuery(query, answer => _transport.SendLeaseAnswer(from, answer));
        }
        _remoteLeaseQueries.Clear();
    }

    private void AnswerLeaseQuery(LeaseQuery query, Action<LeaseAnswer> reply)
    {
        var id = query.LeaseId;
        var exists = _store.TryGetLeaseTtl(id, out var ttl, out var remaining);
        if (query.Kind == LeaseQueryKind.TimeToLive)
        {
            if (!exists)
            {
                reply(Answer(query, ttlSeconds: -1, grantedTtlSeconds: 0, []));
                return;
            }
            var ticks = LeaseRemainingTicks(id) ?? 0;
            var keys = query.WithKeys ? _store.Lease(id).Value!.Keys : [];
            reply(Answer(query, ticks * _options.TickIntervalMs / 1000, ttl, keys));
            return;
        }
        if (!exists || _leasesRevoking.Contains(id))
        {
            reply(Answer(query, ttlSeconds: 0, grantedTtlSeconds: 0, []));
            return;
        }
        SetLeaseExpiry(id, _tick + SecondsToTicks(ttl));
        if (remaining == 0 && _leaseCheckpointProposals.Count == 0)
        {
            reply(Answer(query, ttl, ttl, []));
            return;
        }
        // A checkpoint (applied or on its way) says less than the full TTL. Clear it through Raft before promising
        // the full TTL: otherwise a new leader would resume the lease from the stale remaining time, too early.
        var clear = new LeaseCheckpointRequest { Checkpoints = [new LeaseCheckpoint(id, 0)] };
        SubmitWrite(WriteCommand.LeaseCheckpoint(clear), result => reply(result.Error == NodeError.None
            ? Answer(query, ttl, ttl, [])
            : LeaseAnswer.Failed(query.RequestId, result.Error, id, _raft.Term)));
    }

    private LeaseAnswer Answer(LeaseQuery query, long ttlSeconds, long grantedTtlSeconds, IReadOnlyList<byte[]> keys) =>
        new(query.RequestId, NodeError.None, query.LeaseId, ttlSeconds, grantedTtlSeconds, keys, _store.Revision, _raft.Term);

    private void ExpireLeases()
    {
        var budget = Math.Max(1, LeaseRevokesPerSecondMax * _options.TickIntervalMs / 1000);
        List<ReadOnlyMemory<byte>>? revokes = null;
        while (budget > 0 && _leaseExpiryQueue.TryPeek(out var id, out var expiry) && expiry <= _tick)
        {
            _leaseExpiryQueue.Dequeue();
            if (!_leaseExpiryTicks.TryGetValue(id, out var current) || current != expiry)
            {
                continue; // renewed since: a newer entry is queued
            }
            if (!_store.TryGetLeaseTtl(id, out _, out _))
            {
                _leaseExpiryTicks.Remove(id);
                _leasesRevoking.Remove(id);
                continue;
            }
            _leasesRevoking.Add(id);
            SetLeaseExpiry(id, _tick + SecondsToTicks(LeaseRevokeRetrySeconds)); // proposed again if this one is lost
            var revoke = WriteCommand.LeaseExpire(new LeaseRevokeRequest { ID = id });
            (revokes ??= []).Add(new Proposal(_options.MemberId, _nextProposalId++, revoke).Encode());
            budget--;
        }
        if (revokes is not null)
        {
            _raft.ProposeBatch(revokes); // refused (e.g. during a leadership transfer): retried after the retry time
        }
        if (_leaseExpiryQueue.Count > 2 * _leaseExpiryTicks.Count + 1_024)
        {
            // Renewals leave superseded entries behind; long leases would keep them for their whole TTL.
            _leaseExpiryQueue.Clear();
            foreach (var (leaseId, tick) in _leaseExpiryTicks)
            {
                _leaseExpiryQueue.Enqueue(leaseId, tick);
            }
        }
    }

    private void CheckpointLeases()
    {
        if (_options.LeaseCheckpointIntervalTicks <= 0 || _tick < _nextLeaseCheckpointTick)
        {
            return;
        }
        _nextLeaseCheckpointTick = _tick + _options.LeaseCheckpointIntervalTicks;
        var checkpoints = new List<LeaseCheckpoint>();
        foreach (var (id, expiry) in _leaseExpiryTicks)
        {
            if (_leasesRevoking.Contains(id) || !_store.TryGetLeaseTtl(id, out var ttl, out var checkpointed))
            {
                continue;
            }
            var remaining = Math.Max(1, TicksToSecondsCeiling(expiry - _tick));
            if (remaining < ttl && remaining != checkpointed)
            {
                checkpoints.Add(new LeaseCheckpoint(id, remaining));
            }
        }
        checkpoints.Sort(static (left, right) => left.ID.CompareTo(right.ID));
        for (var start = 0; start < checkpoints.Count; start += LeaseCheckpointsPerEntryMax)
        {
            var chunk = checkpoints.GetRange(start, Math.Min(LeaseCheckpointsPerEntryMax, checkpoints.Count - start));
            var proposalId = _nextProposalId++;
            var command = WriteCommand.LeaseCheckpoint(new LeaseCheckpointRequest { Checkpoints = chunk });
            if (_raft.Propose(new Proposal(_options.MemberId, proposalId, command).Encode()).IsAccepted)
            {
                _leaseCheckpointProposals.Add(proposalId);
            }
        }
    }

    /// <summary>Called for every applied proposal: keeps the primary lessor's clocks in step with the store.</summary>
    private void OnLeaseCommandApplied(Proposal proposal, WriteOutcome outcome)
    {
        if (proposal.Command.Kind == WriteCommandKind.LeaseCheckpoint && proposal.Origin == _options.MemberId)
        {
            _leaseCheckpointProposals.Remove(proposal.ProposalId);
        }
        if (!_lessorPrimary)
        {
            return;
        }
        if (proposal.Command.Kind == WriteCommandKind.LeaseGrant && outcome is { IsSuccess: true, IsReplay: false })
        {
            var grant = (LeaseGrantResponse)outcome.Response!;
            SetLeaseExpiry(grant.ID, _tick + SecondsToTicks(grant.TTL));
        }
        else if (proposal.Command.Kind is WriteCommandKind.LeaseRevoke or WriteCommandKind.LeaseExpire)
        {
            var id = ((LeaseRevokeRequest)proposal.Command.Request).ID;
            if (!_store.TryGetLeaseTtl(id, out _, out _))
            {
                _leaseExpiryTicks.Remove(id);
                _leasesRevoking.Remove(id);
            }
        }
    }

    private void DispatchLeaseQueries()
    {
        var target = _raft.Leader;
        if (target != _leaseQueriesTarget)
        {
            // A new leader: ask it everything still unanswered (the old one may never answer).
            _leaseQueriesTarget = target;
            _leaseQueriesUndispatched.Clear();
            _leaseQueriesUndispatched.AddRange(_leaseQueries.Keys);
        }
        if (_leaseQueriesUndispatched.Count == 0 || target == 0 || (target == _options.MemberId && !_lessorPrimary))
        {
            return; // no leader yet, or we lead but do not keep the clocks yet
        }
        foreach (var id in _leaseQueriesUndispatched)
        {
            if (!_leaseQueries.TryGetValue(id, out var pending))
            {
                continue;
            }
            if (_lessorPrimary)
            {
                AnswerLeaseQuery(pending.Query, CompleteLeaseQuery);
            }
            else
            {
                _transport.SendLeaseQuery(target, pending.Query);
            }
        }
        _leaseQueriesUndispatched.Clear();
    }

    private void CompleteLeaseQuery(LeaseAnswer answer)
    {
        if (_leaseQueries.Remove(answer.RequestId, out var pending))
        {
            pending.Complete(answer);
        }
    }

    private void ExpireLeaseQueries()
    {
        while (_leaseQueryDeadlines.Count > 0 && _leaseQueryDeadlines.Peek().DeadlineTick <= _tick)
        {
            var (id, _) = _leaseQueryDeadlines.Dequeue();
            if (_leaseQueries.TryGetValue(id, out var pending))
            {
                var error = _raft.Leader == 0 ? NodeError.NoLeader : NodeError.TimedOut;
                CompleteLeaseQuery(LeaseAnswer.Failed(id, error, pending.Query.LeaseId, _raft.Term));
            }
        }
    }

    private void FailLeaseQueries(NodeError error)
    {
        foreach (var pending in _leaseQueries.Values)
        {
            pending.Complete(LeaseAnswer.Failed(pending.Query.RequestId, error, pending.Query.LeaseId, _raft.Term));
        }
        _leaseQueries.Clear();
        _leaseQueryDeadlines.Clear();
        _leaseQueriesUndispatched.Clear();
    }

    private void SetLeaseExpiry(long id, long tick)
    {
        _leaseExpiryTicks[id] = tick;
        _leaseExpiryQueue.Enqueue(id, tick);
    }

    private long SecondsToTicks(long seconds) => (seconds * 1000 + _options.TickIntervalMs - 1) / _options.TickIntervalMs;

    private long TicksToSecondsCeiling(long ticks) => (ticks * _options.TickIntervalMs + 999) / 1000;
}
