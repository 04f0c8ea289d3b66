namespace Parley.Mvcc;

/// <summary>etcdserverpb.LeaseGrantResponse (its error field is unused in etcd 3.4, kept empty).</summary>
public sealed class LeaseGrantResponse
{
    public ResponseHeader Header { get; init; }

    public long ID { get; init; }

    /// <summary>The granted TTL in seconds (raised to the minimum when the request asked for less).</summary>
    public long TTL { get; init; }

    public string Error { get; init; } = "";
}
