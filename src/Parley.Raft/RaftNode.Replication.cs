namespace Parley.Raft;

public sealed partial class RaftNode
{
    private void TickLeader()
    {
        _heartbeatElapsedTicks++;
        _electionElapsedTicks++;
        if (_electionElapsedTicks >= _options.ElectionTimeoutTicks)
        {
            _electionElapsedTicks = 0;
            if (_options.CheckQuorum && !CheckQuorumActive())
            {
                // We cannot tell whether a newer leader exists: stop serving rather than risk stale reads.
                BecomeFollower(Term, 0);
                return;
            }
            if (TransferTarget != 0)
            {
                // The target did not take over within an election timeout: give up and accept proposals again.
                TransferTarget = 0;
            }
        }
        RetryLostSnapshots();
        if (_heartbeatElapsedTicks >= _options.HeartbeatIntervalTicks)
        {
            _heartbeatElapsedTicks = 0;
            BroadcastHeartbeat();
        }
    }

    private bool CheckQuorumActive()
    {
        var active = 0;
        foreach (var (id, progress) in _progress)
        {
            if (progress.IsLearner)
            {
                continue;
            }
            if (id == Id || progress.RecentActive)
            {
                active++;
            }
            progress.ActiveLastRound = progress.RecentActive;
            progress.RecentActive = id == Id;
        }
        return active >= Config.Voters.Count / 2 + 1;
    }

    private void RetryLostSnapshots()
    {
        foreach (var (_, progress) in _progress)
        {
            if (progress.State == ProgressState.Snapshot && ++progress.SnapshotTicks > 2 * _options.ElectionTimeoutTicks)
            {
                progress.BecomeProbe();
            }
        }
    }

    private void StepLeader(Message message)
    {
        if (!_progress.TryGetValue(message.From, out var progress))
        {
            // From a member no longer in the configuration.
            return;
        }
        switch (message.Type)
        {
            case MessageType.AppendResponse:
                progress.RecentActive = true;
                HandleAppendResponse(message, progress);
                break;
            case MessageType.HeartbeatResponse:
                progress.RecentActive = true;
                progress.ProbeSent = false;
                if (progress.State == ProgressState.Replicate && progress.Inflights.IsFull)
                {
                    // Every append in the window may have been lost: an empty append at Next-1 gets either an
                    // acknowledgement that frees the window or a rejection that sends us back to probing.
                    SendEmptyAppend(message.From, progress);
                }
                else if (progress.Match < Log.LastIndex)
                {
                    // Even with nothing new to send: an empty append finds out about a lost one (the follower
                    // rejects and we back up) or about a probe that never arrived.
                    SendAppend(message.From, progress, sendIfEmpty: true);
                }
                HandleReadConfirmation(message);
                break;
            case MessageType.ReadIndex:
                RequestRead(message.Context, message.From);
                break;
            case MessageType.TransferLeadership:
                TransferLeadership(message.Index);
                break;
        }
    }

    private void HandleAppendResponse(Message message, Progress progress)
    {
        if (message.Reject)
        {
            var probeIndex = message.RejectHint;
            if (message.LogTerm > 0)
            {
                // Skip every entry of the follower's conflicting term at once.
                probeIndex = Log.FindConflictByTerm(message.RejectHint, message.LogTerm).Index;
            }
            if (progress.MaybeDecreaseTo(message.Index, probeIndex))
            {
                if (progress.State == ProgressState.Replicate)
                {
                    progress.BecomeProbe();
                }
                SendAppend(message.From, progress, sendIfEmpty: true);
            }
            return;
        }
        if (!progress.MaybeUpdate(message.Index))
        {
            return;
        }
        switch (progress.State)
        {
            case ProgressState.Probe:
                progress.BecomeReplicate();
                break;
            case ProgressState.Snapshot when progress.Match >= progress.PendingSnapshot:
                progress.BecomeProbe();
                progress.BecomeReplicate();
                break;
            case ProgressState.Replicate:
                progress.Inflights.FreeUpTo(message.Index);
                break;
        }
        if (MaybeCommit())
        {
            BroadcastCommit();
        }
        else
        {
            while (SendAppend(message.From, progress, sendIfEmpty: false))
            {
            }
        }
        if (message.From == TransferTarget && progress.Match == Log.LastIndex)
        {
            SendTimeoutNow(message.From);
        }
    }

    private void StepFollower(Message message)
    {
        switch (message.Type)
        {
            case MessageType.Append:
                _electionElapsedTicks = 0;
                Leader = message.From;
                HandleAppend(message);
                break;
            case MessageType.Heartbeat:
                _electionElapsedTicks = 0;
                Leader = message.From;
                Log.CommitTo(Math.Min(message.Commit, Log.LastIndex));
                Send(new Message { Type = MessageType.HeartbeatResponse, From = Id, To = message.From, Term = Term, Context = message.Context });
                break;
            case MessageType.InstallSnapshot:
                _electionElapsedTicks = 0;
                Leader = message.From;
                HandleSnapshot(message);
                break;
            case MessageType.TimeoutNow:
                // The leader hands over to us: campaign at once, skipping pre-vote and leases.
                Campaign(transfer: true);
                break;
            case MessageType.ReadIndexResponse:
                _readStates.Add(new ReadState(message.Index, message.Context));
                break;
        }
    }

    private void HandleAppend(Message message)
    {
        if (message.Index < Log.Committed)
        {
            // Everything up to our commit index matches any leader's log (§5.4): tell it where we are.
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = message.From, Term = Term, Index = Log.Committed });
            return;
        }
        var lastNewIndex = Log.TryAppend(message.Index, message.LogTerm, message.Commit, message.Entries);
        if (lastNewIndex is { } matched)
        {
            if (message.CommitOnly && message.Entries.Length == 0)
            {
                return; // nothing new to acknowledge (see Message.CommitOnly)
            }
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = message.From, Term = Term, Index = matched });
            return;
        }
        var hint = Log.FindConflictByTerm(Math.Min(message.Index, Log.LastIndex), message.LogTerm);
        Send(new Message
        {
            Type = MessageType.AppendResponse,
            From = Id,
            To = message.From,
            Term = Term,
            Index = message.Index,
            Reject = true,
            RejectHint = hint.Index,
            LogTerm = hint.Term,
        });
    }

    private void HandleSnapshot(Message message)
    {
        var snapshot = message.Snapshot!;
        var index = snapshot.Metadata.Index;
        if (index <= Log.Committed)
        {
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = message.From, Term = Term, Index = Log.Committed });
            return;
        }
        if (Log.MatchTerm(index, snapshot.Metadata.Term))
        {
            // We already hold the snapshot's last entry: fast-forward the commit index. Acknowledge only what
            // the snapshot vouches for: entries after it may be a deposed leader's and differ from the leader's.
            Log.CommitTo(index);
            Send(new Message { Type = MessageType.AppendResponse, From = Id, To = message.From, Term = Term, Index = Log.Committed });
            return;
        }
        Log.Restore(snapshot);
        Config = snapshot.Metadata.Config;
        ResetProgress();
        Send(new Message { Type = MessageType.AppendResponse, From = Id, To = message.From, Term = Term, Index = Log.LastIndex });
    }

    private void AppendAsLeader(Entry[] entries)
    {
        foreach (var entry in entries)
        {
            _uncommittedBytes += entry.Data.Length;
        }
        Log.Append(entries);
        // The leader counts itself toward the quorum only once these are durable (see Advance).
        BroadcastAppend();
    }

    /// <summary>Commits the highest index that a quorum of voters holds durably, if it is of the current term.</summary>
    private bool MaybeCommit()
    {
        var voters = Config.Voters.Count;
        if (voters == 0)
        {
            return false;
        }
        Span<ulong> matches = voters <= 16 ? stackalloc ulong[voters] : new ulong[voters];
        for (var i = 0; i < voters; i++)
        {
            matches[i] = _progress.TryGetValue(Config.Voters[i], out var progress) ? progress.Match : 0;
        }
        matches.Sort();
        // Ascending order: the value at (voters - 1) / 2 is held by a majority (itself and everything above it).
        var quorumIndex = matches[(voters - 1) / 2];
        var committedBefore = Log.Committed;
        var committed = Log.MaybeCommit(quorumIndex, Term, ignoreTerm: (_options.Bugs & RaftBugs.CommitOldTerm) != 0);
        if (committed && Log.TermOrZero(committedBefore) != Term && Log.TermOrZero(Log.Committed) == Term)
        {
            // The first entry of our term committed: reads held back until now may start.
            StartHeldReads();
        }
        return committed;
    }

    private void BroadcastAppend()
    {
        foreach (var (id, progress) in _progress)
        {
            if (id != Id)
            {
                SendAppend(id, progress, sendIfEmpty: true);
            }
        }
    }

    /// <summary>
    /// After a commit: every follower hears of it with what it still lacks. A follower that has been sent every entry
    /// gets a commit-only append, which it does not answer: one answer fewer for each follower and commit, when a lone
    /// client's commits come one at a time.
    /// </summary>
    private void BroadcastCommit()
    {
        foreach (var (id, progress) in _progress)
        {
            if (id == Id)
            {
                continue;
            }
            if (progress.State == ProgressState.Replicate && !progress.IsPaused && progress.Next > Log.LastIndex)
            {
                SendEmptyAppend(id, progress, commitOnly: true);
            }
            else
            {
                SendAppend(id, progress, sendIfEmpty: true);
            }
        }
    }

    private void BroadcastHeartbeat()
    {
        var context = _readRound?.Id ?? 0;
        foreach (var (id, progress) in _progress)
        {
            if (id == Id)
            {
                continue;
            }
            Send(new Message
            {
                Type = MessageType.Heartbeat,
                From = Id,
                To = id,
                Term = Term,
                // Never tell a follower to commit beyond what it is known to hold.
                Commit = Math.Min(progress.Match, Log.Committed),
                Context = context,
            });
        }
    }

    /// <summary>Sends the next append (or a snapshot when the needed entries are compacted). False when nothing
    /// was sent because the follower is paused or, unless <paramref name="sendIfEmpty"/>, up to date.</summary>
    private bool SendAppend(ulong to, Progress progress, bool sendIfEmpty)
    {
        if (progress.IsPaused)
        {
            return false;
        }
        var previousIndex = progress.Next - 1;
        if (!Log.TryGetTerm(previousIndex, out var previousTerm) || !Log.HasEntriesFrom(progress.Next))
        {
            return SendSnapshot(to, progress);
        }
        var entries = Log.Slice(progress.Next, Log.LastIndex + 1, _options.BytesPerMessageMax, _options.EntriesPerMessageMax);
        if (entries.Count == 0 && !sendIfEmpty)
        {
            return false;
        }
        long bytes = 0;
        foreach (var entry in entries)
        {
            bytes += entry.SizeBytes;
        }
        Send(new Message
        {
            Type = MessageType.Append,
            From = Id,
            To = to,
            Term = Term,
            Index = previousIndex,
            LogTerm = previousTerm,
            Entries = entries.ToArray(),
            Commit = Log.Committed,
        });
        if (entries.Count > 0)
        {
            progress.SentEntries(entries[^1].Index, bytes);
        }
        else if (progress.State == ProgressState.Probe)
        {
            progress.ProbeSent = true;
        }
        return entries.Count > 0;
    }

    private void SendEmptyAppend(ulong to, Progress progress, bool commitOnly = false)
    {
        var previousIndex = progress.Next - 1;
        if (!Log.TryGetTerm(previousIndex, out var previousTerm))
        {
            // Compacted meanwhile: start over from the match point (which leads to a snapshot).
            progress.BecomeProbe();
            SendAppend(to, progress, sendIfEmpty: true);
            return;
        }
        Send(new Message
        {
            Type = MessageType.Append,
            From = Id,
            To = to,
            Term = Term,
            Index = previousIndex,
            LogTerm = previousTerm,
            Commit = Log.Committed,
            CommitOnly = commitOnly,
        });
    }

    private bool SendSnapshot(ulong to, Progress progress)
    {
        if (!progress.RecentActive)
        {
            // Don't push a large snapshot at a member that may be down; heartbeats will tell when it is back.
            return false;
        }
        var snapshot = _storage.Snapshot;
        Invariant.Check(!snapshot.IsEmpty, "entries are compacted but there is no snapshot");
        progress.BecomeSnapshot(snapshot.Metadata.Index);
        Send(new Message { Type = MessageType.InstallSnapshot, From = Id, To = to, Term = Term, Snapshot = snapshot });
        return false;
    }
}
