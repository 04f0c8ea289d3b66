namespace Parley.Node;

/// <summary>A lease question asked at this member, waiting for the leader's answer (or its deadline).</summary>
internal sealed class PendingLeaseQuery(LeaseQuery query, Action<LeaseAnswer> complete)
{
    public LeaseQuery Query { get; } = query;

    public Action<LeaseAnswer> Complete { get; } = complete;
}
