namespace Parley.Raft;

/// <summary>
/// One member's consensus core: Raft with pre-vote, check-quorum, learners, snapshots, ReadIndex and leadership
/// transfer. Pure and single-threaded by contract: no clocks (time is <see cref="Tick"/>), no I/O (storage is a
/// read-only port, output is a <see cref="Ready"/>), no randomness but the injected generator.
/// </summary>
public sealed partial class RaftNode
{
    /// <summary>Marks a vote request sent because of a leadership transfer: voters ignore their leader lease.</summary>
    public const ulong TransferCampaignContext = ulong.MaxValue;

    private readonly RaftOptions _options;
    private readonly IRaftStorage _storage;
    private readonly Random _random;
    private readonly Dictionary<ulong, Progress> _progress = [];
    private readonly Dictionary<ulong, bool> _votes = [];
    private List<Message> _messages = [];
    private List<Message> _messagesAfterPersist = [];
    private List<ReadState> _readStates = [];
    private HardState _previousHardState;
    private (ulong Leader, RaftRole Role) _previousSoftState;
    private int _electionElapsedTicks;
    private int _heartbeatElapsedTicks;
    private int _randomizedElectionTimeoutTicks;
    private ulong _pendingConfigIndex;
    private long _uncommittedBytes;

    /// <param name="appliedIndex">What the host's state machine already holds (its snapshot's index after a
    /// restart): committed entries up to it are not handed out again.</param>
    public RaftNode(RaftOptions options, IRaftStorage storage, Random random, ulong appliedIndex = 0)
    {
        options.Validate();
        _options = options;
        _random = random;
        _storage = storage;
        Id = options.Id;
        Log = new RaftLog(storage);
        Config = storage.Snapshot.Metadata.Config;
        var hardState = storage.InitialHardState;
        if (!hardState.IsEmpty)
        {
            Invariant.Check(hardState.Commit >= Log.Committed && hardState.Commit <= Log.LastIndex,
                $"stored commit {hardState.Commit} outside the log [{Log.Committed},{Log.LastIndex}]");
            Term = hardState.Term;
            Vote = hardState.Vote;
            Log.CommitTo(hardState.Commit);
        }
        Log.AppliedTo(Math.Min(Math.Max(appliedIndex, Log.Applied), Log.Committed));
        _previousHardState = HardState;
        ResetProgress();
        BecomeFollower(Term, 0);
        _previousSoftState = (Leader, Role);
    }

    public ulong Id { get; }

    public ulong Term { get; private set; }

    public ulong Vote { get; private set; }

    public ulong Leader { get; private set; }

    public RaftRole Role { get; private set; }

    public RaftLog Log { get; }

    public ConfigState Config { get; private set; }

    /// <summary>Who leadership is being handed to, or 0.</summary>
    public ulong TransferTarget { get; private set; }

    public HardState HardState => new(Term, Vote, Log.Committed);

    public IReadOnlyDictionary<ulong, Progress> Progress => _progress;

    /// <summary>A member that may campaign: a voter of the current configuration.</summary>
    public bool IsPromotable => Config.IsVoter(Id);

    /// <summary>Advances logical time by one tick: elections on followers, heartbeats and quorum checks on leaders.</summary>
    public void Tick()
    {
        if (Role == RaftRole.Leader)
        {
            TickLeader();
        }
        else
        {
            TickElection();
        }
    }

    /// <summary>Proposes one command. See <see cref="ProposeBatch"/>.</summary>
    public ProposeResult Propose(ReadOnlyMemory<byte> data) => ProposeBatch([data]);

    /// <summary>Proposes commands as consecutive entries; on acceptance the result names the first one's index.</summary>
    public ProposeResult ProposeBatch(IReadOnlyList<ReadOnlyMemory<byte>> commands)
    {
        if (Role != RaftRole.Leader)
        {
            return new ProposeResult(ProposeStatus.NotLeader, 0, Term, Leader);
        }
        if (TransferTarget != 0)
        {
            return new ProposeResult(ProposeStatus.LeadershipTransferInProgress, 0, Term, Leader);
        }
        long bytes = 0;
        foreach (var command in commands)
        {
            bytes += command.Length;
        }
        if (_uncommittedBytes > 0 && _uncommittedBytes + bytes > _options.UncommittedBytesMax)
        {
            return new ProposeResult(ProposeStatus.TooManyUncommittedBytes, 0, Term, Leader);
        }
        var first = Log.LastIndex + 1;
        var entries = new Entry[commands.Count];
        for (var i = 0; i < commands.Count; i++)
        {
            entries[i] = new Entry(Term, first + (ulong)i, EntryType.Normal, commands[i]);
        }
        AppendAsLeader(entries);
        return new ProposeResult(ProposeStatus.Accepted, first, Term, Id);
    }

    /// <summary>Feeds a message from a peer.</summary>
    public void Step(Message message)
    {
        if (!StepTerm(message))
        {
            return;
        }
        switch (message.Type)
        {
            case MessageType.PreVote:
            case MessageType.Vote:
                HandleVoteRequest(message);
                return;
        }
        switch (Role)
        {
            case RaftRole.Leader:
                StepLeader(message);
                break;
            case RaftRole.Candidate:
            case RaftRole.PreCandidate:
                StepCandidate(message);
                break;
            default:
                StepFollower(message);
                break;
        }
    }

    public bool HasReady =>
        _messages.Count > 0 || _messagesAfterPersist.Count > 0 || _readStates.Count > 0 ||
        Log.HasEntriesToPersist || Log.UnstableSnapshot is not null || Log.HasNextCommittedEntries ||
        HardState != _previousHardState || (Leader, Role) != _previousSoftState;

    /// <summary>Collects what the host must do now; the host then calls <see cref="Advance"/> with it.</summary>
    public Ready GetReady()
    {
        var hardState = HardState;
        var softState = (Leader, Role);
        var entries = Log.EntriesToPersist();
        var ready = new Ready
        {
            HardState = hardState != _previousHardState ? hardState : null,
            SoftState = softState != _previousSoftState ? softState : null,
            Snapshot = Log.UnstableSnapshot,
            Entries = entries,
            CommittedEntries = Log.NextCommittedEntries(_options.CommittedBytesPerReadyMax),
            Messages = _messages,
            MessagesAfterPersist = _messagesAfterPersist,
            ReadStates = _readStates,
            MustSync = entries.Length > 0 || Log.UnstableSnapshot is not null ||
                       hardState.Term != _previousHardState.Term || hardState.Vote != _previousHardState.Vote,
        };
        _messages = [];
        _messagesAfterPersist = [];
        _readStates = [];
        _previousSoftState = softState;
        return ready;
    }

    /// <summary>
    /// The host persisted (made durable) and applied <paramref name="ready"/>: <see cref="AdvanceWritten"/> and
    /// <see cref="Persisted"/> at once.
    /// </summary>
    public void Advance(Ready ready)
    {
        HandedOff(ready);
        if (ready.Entries.Count > 0)
        {
            Persisted(ready.Entries[^1].Index, ready.Entries[^1].Term);
        }
        else
        {
            CountOwnDurableEntries();
        }
    }

    /// <summary>
    /// The host handled <paramref name="ready"/> but its entries may not be durable yet: it sent
    /// <see cref="Ready.Messages"/>, persisted the hard state, wrote the entries (their sync may still be running) and
    /// applied the committed entries. It holds <see cref="Ready.MessagesAfterPersist"/> until the sync covering the
    /// entries is done, then calls <see cref="Persisted"/>. The entries are not handed over again. A leader counts
    /// itself toward a commit only through <see cref="Persisted"/>. A Ready with a snapshot goes through
    /// <see cref="Advance"/> only.
    /// </summary>
    public void AdvanceWritten(Ready ready)
    {
        Invariant.Check(ready.Snapshot is null, "a Ready with a snapshot is advanced once the snapshot is durable");
        HandedOff(ready);
    }

    private void HandedOff(Ready ready)
    {
        if (ready.HardState is { } hardState)
        {
            _previousHardState = hardState;
        }
        if (ready.Snapshot is { } snapshot)
        {
            Log.StableSnapshotTo(snapshot.Metadata.Index);
            Log.AppliedSnapshot(snapshot.Metadata.Index);
        }
        if (ready.Entries.Count > 0)
        {
            var last = ready.Entries[^1];
            Log.HandedOffTo(last.Index, last.Term);
        }
        if (ready.CommittedEntries.Count > 0)
        {
            Log.AppliedTo(ready.CommittedEntries[^1].Index);
            if (Role == RaftRole.Leader)
            {
                ReleaseUncommittedBytes(ready.CommittedEntries);
            }
        }
    }

    /// <summary>
    /// After <see cref="AdvanceWritten"/>: the host's log is durable through (index, term). Ignored when the log no
    /// longer holds that entry (a newer leader's entries replaced it meanwhile; their own sync reports them).
    /// </summary>
    public void Persisted(ulong index, ulong term)
    {
        Log.StableTo(index, term);
        CountOwnDurableEntries();
    }

    private void CountOwnDurableEntries()
    {
        if (Role == RaftRole.Leader && _progress.TryGetValue(Id, out var self) && self.MaybeUpdate(Log.PersistedIndex))
        {
            if (MaybeCommit())
            {
                BroadcastCommit();
            }
        }
    }

    public override string ToString() =>
        $"{Id} {Role} term={Term} vote={Vote} leader={Leader} commit={Log.Committed} applied={Log.Applied} last={Log.LastIndex}";

    private void Send(Message message)
    {
        Invariant.Check(message.To != Id, "a member never sends to itself");
        switch (message.Type)
        {
            // Votes and acknowledgements promise durable state: they leave only after the host persisted.
            case MessageType.Vote:
            case MessageType.VoteResponse:
            case MessageType.AppendResponse:
            case MessageType.HeartbeatResponse:
            case MessageType.ReadIndex:
            case MessageType.TransferLeadership:
                _messagesAfterPersist.Add(message);
                break;
            default:
                _messages.Add(message);
                break;
        }
    }

    private void ReleaseUncommittedBytes(IReadOnlyList<Entry> committed)
    {
        foreach (var entry in committed)
        {
            _uncommittedBytes -= entry.Data.Length;
        }
        if (_uncommittedBytes < 0)
        {
            _uncommittedBytes = 0;
        }
    }
}
