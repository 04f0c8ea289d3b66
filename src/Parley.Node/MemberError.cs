namespace Parley.Node;

/// <summary>Why a membership request or leadership move was refused (etcd's errors; see <see cref="MemberErrors"/>).</summary>
public enum MemberError : byte
{
    None = 0,
    IdExists,
    PeerUrlExists,
    NotFound,
    NotEnoughStarted,
    NotLearner,
    LearnerNotReady,
    TooManyLearners,
    NotLeader,
    BadTransferee,
    TransferTimedOut,
    Unhealthy,
}

/// <summary>etcd's exact message and gRPC status code for each <see cref="MemberError"/>.</summary>
public static class MemberErrors
{
    public const int FailedPrecondition = 9;
    public const int NotFoundCode = 5;

    public static string Message(MemberError error) => error switch
    {
        MemberError.None => "",
        MemberError.IdExists => "etcdserver: member ID already exist",
        MemberError.PeerUrlExists => "etcdserver: Peer URLs already exists",
        MemberError.NotFound => "etcdserver: member not found",
        MemberError.NotEnoughStarted => "etcdserver: re-configuration failed due to not enough started members",
        MemberError.NotLearner => "etcdserver: can only promote a learner member",
        MemberError.LearnerNotReady => "etcdserver: can only promote a learner member which is in sync with leader",
        MemberError.TooManyLearners => "etcdserver: too many learner members in cluster",
        MemberError.NotLeader => "etcdserver: not leader",
        MemberError.BadTransferee => "etcdserver: bad leader transferee",
        MemberError.TransferTimedOut => "etcdserver: request timed out, leader transfer took too long",
        MemberError.Unhealthy => "etcdserver: unhealthy cluster",
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, "unknown member error"),
    };

    public static int StatusCode(MemberError error) => error switch
    {
        MemberError.NotFound => NotFoundCode,
        MemberError.TransferTimedOut or MemberError.Unhealthy => NodeErrors.Unavailable,
        _ => FailedPrecondition,
    };
}

/// <summary>
/// The end of a membership request: applied (<see cref="Members"/> is the membership right after it), refused
/// (<see cref="MemberError"/>), or failed in the node (<see cref="Error"/>: no leader, timed out, stopped).
/// </summary>
public readonly record struct MemberChangeResult(NodeError Error, MemberError MemberError, IReadOnlyList<ClusterMember> Members, ulong RaftTerm)
{
    public bool IsSuccess => Error == NodeError.None && MemberError == MemberError.None;
}
