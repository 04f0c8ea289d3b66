namespace Parley.Raft;

/// <summary>
/// Everything the core asks of its host since the last <see cref="RaftNode.Advance"/>. The host must, in order:
/// (1) send <see cref="Messages"/> (these may leave before persistence: the leader's appends do not depend on
/// its own disk); (2) durably persist <see cref="HardState"/>, <see cref="Snapshot"/> and <see cref="Entries"/>
/// into its storage; (3) only then send <see cref="MessagesAfterPersist"/> (votes and acknowledgements, which
/// promise durable state); (4) apply <see cref="Snapshot"/> and then <see cref="CommittedEntries"/>;
/// (5) serve <see cref="ReadStates"/> once applied up to their index; (6) call <see cref="RaftNode.Advance"/>.
/// </summary>
public sealed class Ready
{
    public HardState? HardState { get; init; }

    public Snapshot? Snapshot { get; init; }

    public IReadOnlyList<Entry> Entries { get; init; } = [];

    public IReadOnlyList<Entry> CommittedEntries { get; init; } = [];

    public IReadOnlyList<Message> Messages { get; init; } = [];

    public IReadOnlyList<Message> MessagesAfterPersist { get; init; } = [];

    public IReadOnlyList<ReadState> ReadStates { get; init; } = [];

    /// <summary>Leader or role changed since the previous Ready.</summary>
    public (ulong Leader, RaftRole Role)? SoftState { get; init; }

    /// <summary>Whether persisting needs an fsync (hard state term/vote or entries changed).</summary>
    public bool MustSync { get; init; }
}
