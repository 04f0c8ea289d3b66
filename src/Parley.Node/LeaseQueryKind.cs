namespace Parley.Node;

/// <summary>The lease questions only the leader can answer: it alone keeps leases' clocks.</summary>
public enum LeaseQueryKind : byte
{
    /// <summary>Renew: the lease's clock restarts at its full TTL (etcd LeaseKeepAlive).</summary>
    KeepAlive = 1,

    /// <summary>Remaining TTL, granted TTL and (optionally) attached keys (etcd LeaseTimeToLive).</summary>
    TimeToLive = 2,
}
