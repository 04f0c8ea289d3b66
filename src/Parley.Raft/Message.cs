namespace Parley.Raft;

/// <summary>
/// One message between members. Field use follows etcd-io/raft: <see cref="Index"/> and <see cref="LogTerm"/>
/// describe the entry that precedes <see cref="Entries"/> in an append, the candidate's last entry in a vote,
/// and the acknowledged index in a response.
/// </summary>
public sealed class Message
{
    public MessageType Type { get; init; }
    public ulong From { get; init; }
    public ulong To { get; init; }
    public ulong Term { get; init; }
    public ulong LogTerm { get; init; }
    public ulong Index { get; init; }
    public ulong Commit { get; init; }
    public Entry[] Entries { get; init; } = [];
    public bool Reject { get; init; }
    /// <summary>On a rejected append: the index the follower suggests to probe next.</summary>
    public ulong RejectHint { get; init; }
    /// <summary>
    /// On an append with no entries: it only tells a follower that has been sent every entry of the new commit index.
    /// A follower whose log matches does not answer it (the answers to the appends in flight say what it holds, and a
    /// heartbeat's answer finds out about a lost one); a mismatch is still answered.
    /// </summary>
    public bool CommitOnly { get; init; }
    public Snapshot? Snapshot { get => _snapshot; init => _snapshot = value; }
    /// <summary>Heartbeat round (read confirmation), read request id, or campaign-by-transfer marker.</summary>
    public ulong Context { get; init; }

    private Snapshot? _snapshot;

    /// <summary>A copy of this message (every field, a field added later too) that carries <paramref name="snapshot"/> instead of its own.</summary>
    public Message WithSnapshot(Snapshot snapshot)
    {
        var copy = (Message)MemberwiseClone();
        copy._snapshot = snapshot;
        return copy;
    }

    public override string ToString()
    {
        var entries = Entries.Length == 0 ? "" : $" entries=[{string.Join(" ", Entries)}]";
        var reject = Reject ? $" reject hint={RejectHint}" : CommitOnly ? " commit-only" : "";
        var snapshot = Snapshot is null ? "" : $" snap={Snapshot.Metadata.Index}/{Snapshot.Metadata.Term}";
        return $"{From}->{To} {Type} t={Term} idx={Index} lt={LogTerm} c={Commit}{entries}{reject}{snapshot}" +
               (Context != 0 ? $" ctx={Context}" : "");
    }
}
