namespace Parley.Mvcc;

/// <summary>etcdserverpb.AlarmMember: one raised alarm and the member it was raised for.</summary>
public readonly record struct AlarmMember(ulong MemberId, AlarmType Alarm);
