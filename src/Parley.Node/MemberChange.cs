namespace Parley.Node;

/// <summary>What a membership request asks for (etcd's MemberAdd with or without isLearner, MemberPromote, MemberRemove, MemberUpdate).</summary>
public enum MemberChangeKind : byte
{
    AddVoter = 1,
    AddLearner = 2,
    Promote = 3,
    Remove = 4,
    Update = 5,
}

/// <summary>
/// One membership request. <see cref="MemberId"/> is chosen by the host for additions (unique per request, as etcd
/// mixes the time into it); <see cref="PeerUrls"/> matter for additions and updates only.
/// </summary>
public sealed record MemberChange(MemberChangeKind Kind, ulong MemberId, IReadOnlyList<string> PeerUrls);

/// <summary>A member as the replicated membership knows it.</summary>
public sealed record ClusterMember(ulong Id, IReadOnlyList<string> PeerUrls, bool IsLearner);
