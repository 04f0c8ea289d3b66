namespace Parley.Mvcc;

/// <summary>etcdserverpb.LeaseGrantRequest. ID 0 asks the store to choose one (deterministically).</summary>
public sealed class LeaseGrantRequest
{
    public long TTL { get; init; }

    public long ID { get; init; }
}
