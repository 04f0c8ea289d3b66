namespace Parley.Node;

/// <summary>
/// The leader's answer to a <see cref="LeaseQuery"/>. KeepAlive: <see cref="TtlSeconds"/> is the granted TTL, or 0
/// when the lease does not exist (or expired and is being revoked). TimeToLive: remaining seconds (rounded down), or
/// -1 when the lease does not exist; <see cref="GrantedTtlSeconds"/> 0 then. <see cref="Revision"/> and
/// <see cref="RaftTerm"/> are the leader's, for the response header. A non-None <see cref="Error"/> means no answer.
/// </summary>
public sealed record LeaseAnswer(
    ulong RequestId, NodeError Error, long LeaseId, long TtlSeconds, long GrantedTtlSeconds, IReadOnlyList<byte[]> Keys,
    long Revision, ulong RaftTerm)
{
    public static LeaseAnswer Failed(ulong requestId, NodeError error, long leaseId, ulong term) =>
        new(requestId, error, leaseId, 0, 0, [], 0, term);
}
