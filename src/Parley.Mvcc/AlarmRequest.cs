namespace Parley.Mvcc;

/// <summary>
/// etcdserverpb.AlarmRequest, applied through Raft as in etcd 3.4 (every action, Get included, so that alarm state
/// and what a client reads of it are replicated and ordered with the writes it caps).
/// </summary>
public sealed class AlarmRequest
{
    public AlarmAction Action { get; init; }

    public ulong MemberId { get; init; }

    public AlarmType Alarm { get; init; }
}
