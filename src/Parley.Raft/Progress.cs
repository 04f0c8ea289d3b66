namespace Parley.Raft;

/// <summary>The leader's view of one member's log (etcd-io/raft's tracker.Progress).</summary>
public sealed class Progress
{
    public Progress(ulong next, int inflightMessagesMax, long inflightBytesMax, bool isLearner)
    {
        Next = next;
        Inflights = new Inflights(inflightMessagesMax, inflightBytesMax);
        IsLearner = isLearner;
    }

    public ulong Match { get; private set; }

    public ulong Next { get; private set; }

    public ProgressState State { get; private set; } = ProgressState.Probe;

    public ulong PendingSnapshot { get; private set; }

    /// <summary>Ticks spent in <see cref="ProgressState.Snapshot"/>, to retry a lost snapshot.</summary>
    public int SnapshotTicks { get; set; }

    /// <summary>Heard from since the last check-quorum round.</summary>
    public bool RecentActive { get; set; }

    /// <summary><see cref="RecentActive"/> as it was when the last check-quorum round reset it.</summary>
    public bool ActiveLastRound { get; set; }

    /// <summary>Heard from within the last one or two election timeouts (etcd's "connected" for reconfiguration checks).</summary>
    public bool IsConnected => RecentActive || ActiveLastRound;

    /// <summary>In probe state: an append is out and we wait for its answer or a heartbeat response.</summary>
    public bool ProbeSent { get; set; }

    public bool IsLearner { get; set; }

    public Inflights Inflights { get; }

    public bool IsPaused => State switch
    {
        ProgressState.Probe => ProbeSent,
        ProgressState.Replicate => Inflights.IsFull,
        _ => true,
    };

    public void BecomeProbe()
    {
        Next = State == ProgressState.Snapshot ? Math.Max(Match + 1, PendingSnapshot + 1) : Match + 1;
        ResetState(ProgressState.Probe);
    }

    public void BecomeReplicate()
    {
        ResetState(ProgressState.Replicate);
        Next = Match + 1;
    }

    public void BecomeSnapshot(ulong snapshotIndex)
    {
        ResetState(ProgressState.Snapshot);
        PendingSnapshot = snapshotIndex;
    }

    /// <summary>An acknowledgement up to <paramref name="index"/>; false when it tells nothing new.</summary>
    public bool MaybeUpdate(ulong index)
    {
        var updated = false;
        if (Match < index)
        {
            Match = index;
            updated = true;
            ProbeSent = false;
        }
        Next = Math.Max(Next, index + 1);
        return updated;
    }

    /// <summary>In replicate state the leader assumes the append will succeed and moves on.</summary>
    public void SentEntries(ulong lastIndex, long bytes)
    {
        if (State == ProgressState.Replicate)
        {
            Next = lastIndex + 1;
            Inflights.Add(lastIndex, bytes);
        }
        else
        {
            ProbeSent = true;
        }
    }

    /// <summary>
    /// A rejection of the append that followed <paramref name="rejected"/>. Moves Next back towards the
    /// follower's hint; false when the rejection is stale (answers an older append).
    /// </summary>
    public bool MaybeDecreaseTo(ulong rejected, ulong matchHint)
    {
        if (State == ProgressState.Replicate)
        {
            if (rejected <= Match)
            {
                return false;
            }
            Next = Match + 1;
            return true;
        }
        if (Next - 1 != rejected)
        {
            return false;
        }
        Next = Math.Max(Math.Min(rejected, matchHint + 1), Match + 1);
        ProbeSent = false;
        return true;
    }

    public override string ToString() => $"{State} match={Match} next={Next}" +
        (State == ProgressState.Snapshot ? $" pending={PendingSnapshot}" : "");

    private void ResetState(ProgressState state)
    {
        ProbeSent = false;
        PendingSnapshot = 0;
        SnapshotTicks = 0;
        State = state;
        Inflights.Reset();
    }
}
