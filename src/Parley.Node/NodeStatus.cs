using Parley.Mvcc;
using Parley.Raft;

namespace Parley.Node;

/// <summary>An immutable picture of the node after a turn, safe to hand to other threads (status, metrics, health).</summary>
public sealed record NodeStatus(
    ulong MemberId,
    ulong Leader,
    RaftRole Role,
    ulong Term,
    ulong CommitIndex,
    ulong AppliedIndex,
    long Revision,
    long CompactRevision,
    long StoredBytes,
    long KeyCount,
    int PendingRequests,
    long LeaderChanges,
    long ProposalsCommitted,
    long ProposalsFailed,
    IReadOnlyList<ulong> Voters,
    IReadOnlyList<ulong> Learners,
    IReadOnlyList<AlarmMember> Alarms,
    IReadOnlyList<ClusterMember> Members,
    bool IsRemoved)
{
    public bool HasLeader => Leader != 0;

    public bool IsLeader => Leader == MemberId && Role == RaftRole.Leader;
}
