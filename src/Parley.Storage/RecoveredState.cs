using Parley.Raft;

namespace Parley.Storage;

/// <summary>
/// What a member starts from: the newest valid snapshot the WAL vouches for, the newest hard state, and the log
/// entries after the snapshot. <see cref="Notes"/> says what recovery repaired or skipped (log them).
/// </summary>
public sealed record RecoveredState(
    Snapshot Snapshot,
    HardState HardState,
    IReadOnlyList<Entry> Entries,
    WalRepair? Repair,
    IReadOnlyList<string> Notes,
    bool CreatedFresh)
{
    public ulong LastIndex => Entries.Count > 0 ? Entries[^1].Index : Snapshot.Metadata.Index;

    /// <summary>
    /// The last entry the member holds that was known committed before the stop: the hard state's commit index, no
    /// further than the recovered log reaches. A restart applies the entries after the snapshot up to here again.
    /// </summary>
    public ulong RecoveredCommit => Math.Min(HardState.Commit, LastIndex);
}
