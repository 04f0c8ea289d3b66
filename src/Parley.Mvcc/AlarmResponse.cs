namespace Parley.Mvcc;

/// <summary>
/// etcdserverpb.AlarmResponse: Get lists the alarms of the asked type (all for None); Activate lists the raised alarm
/// (new or not); Deactivate lists the alarm it removed, or nothing when it was not raised.
/// </summary>
public sealed class AlarmResponse
{
    public ResponseHeader Header { get; init; }

    public IReadOnlyList<AlarmMember> Alarms { get; init; } = [];
}
