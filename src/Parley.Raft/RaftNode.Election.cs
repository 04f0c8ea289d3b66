namespace Parley.Raft;

public sealed partial class RaftNode
{
    private void TickElection()
    {
        _electionElapsedTicks++;
        if (IsPromotable && _electionElapsedTicks >= _randomizedElectionTimeoutTicks)
        {
            _electionElapsedTicks = 0;
            Campaign(transfer: false);
        }
    }

    /// <summary>Starts an election now (used by tests and by a transfer's TimeoutNow).</summary>
    public void Campaign(bool transfer)
    {
        if (!IsPromotable || Role == RaftRole.Leader)
        {
            return;
        }
        StartElection(preVote: _options.PreVote && !transfer, transfer);
    }

    private void StartElection(bool preVote, bool transfer)
    {
        if (preVote)
        {
            BecomePreCandidate();
        }
        else
        {
            BecomeCandidate();
        }
        if (RecordVote(Id, granted: true) == VoteOutcome.Won)
        {
            // A single voter wins at once.
            WinElection();
            return;
        }
        // A pre-vote asks "would you vote for me in the next term?" without anybody changing term.
        var term = preVote ? Term + 1 : Term;
        foreach (var voter in Config.Voters)
        {
            if (voter == Id)
            {
                continue;
            }
            Send(new Message
            {
                Type = preVote ? MessageType.PreVote : MessageType.Vote,
                From = Id,
                To = voter,
                Term = term,
                Index = Log.LastIndex,
                LogTerm = Log.LastTerm,
                Context = transfer ? TransferCampaignContext : 0,
            });
        }
    }

    private void WinElection()
    {
        if (Role == RaftRole.PreCandidate)
        {
            StartElection(preVote: false, transfer: false);
        }
        else
        {
            BecomeLeader();
        }
    }

    /// <summary>
    /// Term rules common to every message (Raft §5.1, plus pre-vote and the leader lease of check-quorum).
    /// Returns false when the message is to be dropped after this.
    /// </summary>
    private bool StepTerm(Message message)
    {
        if (message.Term > Term)
        {
            if (message.Type is MessageType.PreVote or MessageType.Vote)
            {
                var force = message.Context == TransferCampaignContext;
                var inLease = _options.CheckQuorum && Leader != 0 && _electionElapsedTicks < _options.ElectionTimeoutTicks;
                if (!force && inLease)
                {
                    // We heard from a live leader recently: a disruptive candidate does not get to depose it.
                    return false;
                }
            }
            if (message.Type == MessageType.PreVote || (message.Type == MessageType.PreVoteResponse && !message.Reject))
            {
                // Pre-votes never change terms; a granted pre-vote response carries the future term.
            }
            else if (message.Type is MessageType.Append or MessageType.Heartbeat or MessageType.InstallSnapshot)
            {
                BecomeFollower(message.Term, message.From);
            }
            else
            {
                BecomeFollower(message.Term, 0);
            }
            return true;
        }
        if (message.Term < Term)
        {
            if ((_options.CheckQuorum || _options.PreVote) && message.Type is MessageType.Append or MessageType.Heartbeat)
            {
                // A stale leader (e.g. healed from a partition) learns our term and steps down. Without this, a
                // member that pre-voted its way back could never make the old leader notice.
                Send(new Message { Type = MessageType.AppendResponse, From = Id, To = message.From, Term = Term });
            }
            else if (message.Type == MessageType.PreVote)
            {
                Send(new Message { Type = MessageType.PreVoteResponse, From = Id, To = message.From, Term = Term, Reject = true });
            }
            return false;
        }
        return true;
    }

    private void HandleVoteRequest(Message message)
    {
        var isPreVote = message.Type == MessageType.PreVote;
        // We may vote again for the same candidate (a retried request), or for anyone when we have not voted and
        // know no leader in this term; a pre-vote for a future term is always open.
        var canVote = Vote == message.From || (Vote == 0 && Leader == 0) || (isPreVote && message.Term > Term);
        var logOk = (_options.Bugs & RaftBugs.VoteWithoutLogCheck) != 0 || Log.IsUpToDate(message.Index, message.LogTerm);
        var responseType = isPreVote ? MessageType.PreVoteResponse : MessageType.VoteResponse;
        // Whatever our own configuration says: a learner's promotion can commit on the voters before the learner has
        // it, and a candidate that counts it as a voter may need its vote (with one voter dead, no other quorum
        // exists). Only the candidate's configuration decides whose votes count; etcd-raft votes the same way.
        if (canVote && logOk)
        {
            Send(new Message { Type = responseType, From = Id, To = message.From, Term = message.Term });
            if (!isPreVote)
            {
                _electionElapsedTicks = 0;
                Vote = message.From;
            }
            return;
        }
        Send(new Message { Type = responseType, From = Id, To = message.From, Term = Term, Reject = true });
    }

    private void StepCandidate(Message message)
    {
        switch (message.Type)
        {
            case MessageType.Append:
            case MessageType.Heartbeat:
            case MessageType.InstallSnapshot:
                // A leader exists in our term: (pre-)candidacy is over.
                BecomeFollower(message.Term, message.From);
                StepFollower(message);
                return;
            case MessageType.PreVoteResponse when Role == RaftRole.PreCandidate:
            case MessageType.VoteResponse when Role == RaftRole.Candidate:
                switch (RecordVote(message.From, !message.Reject))
                {
                    case VoteOutcome.Won:
                        WinElection();
                        break;
                    case VoteOutcome.Lost:
                        BecomeFollower(Term, 0);
                        break;
                }
                return;
        }
    }

    private enum VoteOutcome
    {
        Pending,
        Won,
        Lost,
    }

    private VoteOutcome RecordVote(ulong from, bool granted)
    {
        if (!Config.IsVoter(from))
        {
            return VoteOutcome.Pending;
        }
        _votes.TryAdd(from, granted);
        int yes = 0, no = 0;
        foreach (var (_, vote) in _votes)
        {
            if (vote)
            {
                yes++;
            }
            else
            {
                no++;
            }
        }
        var quorum = Config.Voters.Count / 2 + 1;
        if (yes >= quorum)
        {
            return VoteOutcome.Won;
        }
        // Lost once the remaining voters could no longer make a quorum.
        return no > Config.Voters.Count - quorum ? VoteOutcome.Lost : VoteOutcome.Pending;
    }

    private void BecomeFollower(ulong term, ulong leader)
    {
        Reset(term);
        Leader = leader;
        Role = RaftRole.Follower;
    }

    private void BecomePreCandidate()
    {
        // No term change and no vote: a pre-candidate that cannot win disturbs nobody.
        _votes.Clear();
        Leader = 0;
        Role = RaftRole.PreCandidate;
        DropPendingReads();
    }

    private void BecomeCandidate()
    {
        Invariant.Check(Role != RaftRole.Leader, "a leader cannot become a candidate");
        Reset(Term + 1);
        Vote = Id;
        Role = RaftRole.Candidate;
    }

    private void BecomeLeader()
    {
        Invariant.Check(Role == RaftRole.Candidate, "only a candidate becomes leader");
        Reset(Term);
        Leader = Id;
        Role = RaftRole.Leader;
        var self = _progress[Id];
        self.BecomeReplicate();
        self.RecentActive = true;
        // The no-op entry commits everything of earlier terms once it commits (§5.4.2, §8).
        AppendAsLeader([new Entry(Term, Log.LastIndex + 1, EntryType.Normal, ReadOnlyMemory<byte>.Empty)]);
        // No config change until our no-op is applied (the single-member change bug reported by Ongaro: a leader
        // must commit an entry of its own term before it changes the configuration).
        _pendingConfigIndex = Log.LastIndex;
        BroadcastAppend();
    }

    private void Reset(ulong term)
    {
        if (Term != term)
        {
            Term = term;
            Vote = 0;
        }
        Leader = 0;
        _electionElapsedTicks = 0;
        _heartbeatElapsedTicks = 0;
        _randomizedElectionTimeoutTicks = _options.ElectionTimeoutTicks + _random.Next(_options.ElectionTimeoutTicks);
        TransferTarget = 0;
        _votes.Clear();
        _pendingConfigIndex = 0;
        _uncommittedBytes = 0;
        ResetProgress();
        DropPendingReads();
    }

    private void ResetProgress()
    {
        _progress.Clear();
        foreach (var id in Config.Voters)
        {
            _progress[id] = NewProgress(id, isLearner: false);
        }
        foreach (var id in Config.Learners)
        {
            _progress[id] = NewProgress(id, isLearner: true);
        }
    }

    private Progress NewProgress(ulong id, bool isLearner)
    {
        var progress = new Progress(Log.LastIndex + 1, _options.InflightMessagesMax, _options.InflightBytesMax, isLearner);
        if (id == Id)
        {
            progress.MaybeUpdate(Log.PersistedIndex);
            progress.RecentActive = true;
        }
        return progress;
    }
}
