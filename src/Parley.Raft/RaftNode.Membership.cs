namespace Parley.Raft;

public sealed partial class RaftNode
{
    /// <summary>
    /// Proposes a single-member change. It takes effect when the host applies the committed entry and calls
    /// <see cref="ApplyConfigChange"/>; until then no other change is accepted.
    /// </summary>
    public ProposeResult ProposeConfigChange(ConfigChange change)
    {
        if (Role != RaftRole.Leader)
        {
            return new ProposeResult(ProposeStatus.NotLeader, 0, Term, Leader);
        }
        if (TransferTarget != 0)
        {
            return new ProposeResult(ProposeStatus.LeadershipTransferInProgress, 0, Term, Leader);
        }
        if (IsConfigChangePending)
        {
            return new ProposeResult(ProposeStatus.ConfigChangePending, 0, Term, Leader);
        }
        if (!IsValidChange(change))
        {
            return new ProposeResult(ProposeStatus.InvalidConfigChange, 0, Term, Leader);
        }
        var index = Log.LastIndex + 1;
        AppendAsLeader([new Entry(Term, index, EntryType.ConfigChange, change.Encode())]);
        _pendingConfigIndex = index;
        return new ProposeResult(ProposeStatus.Accepted, index, Term, Id);
    }

    /// <summary>A proposed membership change is not applied yet (or a new leader has not applied its whole log).</summary>
    public bool IsConfigChangePending => _pendingConfigIndex > Log.Applied;

    private bool IsValidChange(ConfigChange change) => change.Type switch
    {
        ConfigChangeType.AddVoter => change.NodeId != 0 && !Config.IsVoter(change.NodeId),
        ConfigChangeType.AddLearner => change.NodeId != 0 && !Config.IsMember(change.NodeId),
        ConfigChangeType.RemoveNode => Config.IsMember(change.NodeId) &&
                                       !(Config.IsVoter(change.NodeId) && Config.Voters.Count == 1),
        _ => false,
    };

    /// <summary>Applies a committed membership change (every member calls this when applying the entry).</summary>
    public ConfigState ApplyConfigChange(ConfigChange change)
    {
        Config = Config.Apply(change);
        foreach (var id in _progress.Keys.ToArray())
        {
            if (!Config.IsMember(id))
            {
                _progress.Remove(id);
            }
        }
        foreach (var id in Config.Voters.Concat(Config.Learners))
        {
            if (!_progress.TryGetValue(id, out var progress))
            {
                _progress[id] = NewProgress(id, Config.IsLearner(id));
            }
            else
            {
                progress.IsLearner = Config.IsLearner(id);
            }
        }
        if (TransferTarget != 0 && !Config.IsVoter(TransferTarget))
        {
            TransferTarget = 0;
        }
        if (Role == RaftRole.Leader)
        {
            if (!Config.IsVoter(Id))
            {
                // Removed (or no longer a voter): stop leading; the remaining voters elect a successor.
                BecomeFollower(Term, 0);
            }
            else if (MaybeCommit())
            {
                // The quorum changed: entries may be committed now.
                BroadcastCommit();
            }
        }
        return Config;
    }

    /// <summary>
    /// Hands leadership to <paramref name="target"/>: proposals stop, the target is brought up to date, then told
    /// to campaign at once. Abandoned after an election timeout. On a follower, forwarded to the leader.
    /// </summary>
    public void TransferLeadership(ulong target)
    {
        if (Role != RaftRole.Leader)
        {
            if (Leader != 0 && Leader != Id)
            {
                Send(new Message { Type = MessageType.TransferLeadership, From = Id, To = Leader, Term = Term, Index = target });
            }
            return;
        }
        if (target == Id || !Config.IsVoter(target) || TransferTarget == target)
        {
            return;
        }
        TransferTarget = target;
        _electionElapsedTicks = 0;
        var progress = _progress[target];
        if (progress.Match == Log.LastIndex)
        {
            SendTimeoutNow(target);
        }
        else
        {
            SendAppend(target, progress, sendIfEmpty: true);
        }
    }

    private void SendTimeoutNow(ulong to) =>
        Send(new Message { Type = MessageType.TimeoutNow, From = Id, To = to, Term = Term });
}
