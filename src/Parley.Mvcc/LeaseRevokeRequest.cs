namespace Parley.Mvcc;

/// <summary>etcdserverpb.LeaseRevokeRequest; also how the leader applies an expiry.</summary>
public sealed class LeaseRevokeRequest
{
    public long ID { get; init; }
}
