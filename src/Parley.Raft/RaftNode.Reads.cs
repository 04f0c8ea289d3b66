namespace Parley.Raft;

public sealed partial class RaftNode
{
    // Reads that arrived before the leader committed an entry of its own term: its commit index may still be
    // behind what an earlier leader acknowledged, so it cannot serve them yet.
    private readonly List<(ulong RequestId, ulong From)> _readsHeld = [];
    // Reads waiting for the next leadership confirmation round.
    private List<(ulong RequestId, ulong From)> _readsWaiting = [];
    private ReadRound? _readRound;
    private ulong _readRoundCounter;

    /// <summary>
    /// Asks for a linearizable read index for <paramref name="requestId"/>. The answer comes back as a
    /// <see cref="ReadState"/> in a later <see cref="Ready"/>. Reads that arrive while a confirmation round is
    /// running share the next round, so one heartbeat round serves every read waiting at that moment. Returns
    /// false when no leader is known (the caller retries); a request may also be lost with a leader change, so the
    /// caller needs a timeout.
    /// </summary>
    public bool ReadIndex(ulong requestId)
    {
        if (Role == RaftRole.Leader)
        {
            RequestRead(requestId, Id);
            return true;
        }
        if (Leader == 0)
        {
            return false;
        }
        Send(new Message { Type = MessageType.ReadIndex, From = Id, To = Leader, Term = Term, Context = requestId });
        return true;
    }

    /// <summary>Reads pending on this leader (held, waiting or in a round).</summary>
    public int PendingReadCount => _readsHeld.Count + _readsWaiting.Count + (_readRound?.Requests.Count ?? 0);

    private void RequestRead(ulong requestId, ulong from)
    {
        if (Log.TermOrZero(Log.Committed) != Term)
        {
            _readsHeld.Add((requestId, from));
            return;
        }
        _readsWaiting.Add((requestId, from));
        MaybeStartReadRound();
    }

    private void StartHeldReads()
    {
        _readsWaiting.AddRange(_readsHeld);
        _readsHeld.Clear();
        MaybeStartReadRound();
    }

    private void MaybeStartReadRound()
    {
        if (_readRound is not null || _readsWaiting.Count == 0)
        {
            return;
        }
        var round = new ReadRound(++_readRoundCounter, Log.Committed, _readsWaiting);
        _readsWaiting = [];
        round.Acks.Add(Id);
        if (round.Acks.Count >= Config.Voters.Count / 2 + 1)
        {
            ReleaseReads(round);
            return;
        }
        _readRound = round;
        BroadcastHeartbeat();
    }

    private void HandleReadConfirmation(Message message)
    {
        if (_readRound is not { } round || message.Context != round.Id || !Config.IsVoter(message.From))
        {
            return;
        }
        round.Acks.Add(message.From);
        if (round.Acks.Count < Config.Voters.Count / 2 + 1)
        {
            return;
        }
        _readRound = null;
        ReleaseReads(round);
        MaybeStartReadRound();
    }

    private void ReleaseReads(ReadRound round)
    {
        foreach (var (requestId, from) in round.Requests)
        {
            if (from == Id)
            {
                _readStates.Add(new ReadState(round.Index, requestId));
            }
            else
            {
                Send(new Message { Type = MessageType.ReadIndexResponse, From = Id, To = from, Term = Term, Index = round.Index, Context = requestId });
            }
        }
    }

    private void DropPendingReads()
    {
        _readsHeld.Clear();
        _readsWaiting.Clear();
        _readRound = null;
    }

    private sealed class ReadRound(ulong id, ulong index, List<(ulong RequestId, ulong From)> requests)
    {
        public ulong Id { get; } = id;

        /// <summary>The commit index when the round started: at least the commit index when each read arrived.</summary>
        public ulong Index { get; } = index;

        public List<(ulong RequestId, ulong From)> Requests { get; } = requests;

        public HashSet<ulong> Acks { get; } = [];
    }
}
