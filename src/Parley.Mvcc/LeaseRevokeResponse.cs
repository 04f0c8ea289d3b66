namespace Parley.Mvcc;

/// <summary>etcdserverpb.LeaseRevokeResponse.</summary>
public sealed class LeaseRevokeResponse
{
    public ResponseHeader Header { get; init; }
}
