namespace Parley.Mvcc;

/// <summary>Which replicated write a <see cref="WriteCommand"/> carries.</summary>
public enum WriteCommandKind : byte
{
    Put = 1,
    DeleteRange = 2,
    Txn = 3,
    Compaction = 4,
    LeaseGrant = 5,
    LeaseRevoke = 6,
    LeaseCheckpoint = 7,

    /// <summary>A revoke the leader proposes because the lease ran out: internal, so never refused by auth.</summary>
    LeaseExpire = 8,

    /// <summary>An etcdserverpb.Auth call (<see cref="AuthRequest"/>).</summary>
    Auth = 16,

    /// <summary>An etcdserverpb.Maintenance Alarm call (<see cref="AlarmRequest"/>), raised by a member over quota or by a client.</summary>
    Alarm = 17,
}
