namespace Parley.Mvcc;

public sealed partial class MvccStore
{
    // Sorted by member, then type; replaced, never mutated, so readers on other threads may hold it.
    private AlarmMember[] _alarms = [];

    /// <summary>The raised alarms (member order), as replicated.</summary>
    public IReadOnlyList<AlarmMember> Alarms => _alarms;

    /// <summary>
    /// Whether a NOSPACE alarm is raised (for any member): then, as etcd's capped applier, puts, txns with puts in a
    /// top-level branch and lease grants fail with <see cref="MvccError.NoSpace"/>; reads, deletes, compactions and
    /// revokes still apply, so that space can be freed.
    /// </summary>
    public bool IsSpaceCapped
    {
        get
        {
            foreach (AlarmMember alarm in _alarms)
            {
                if (alarm.Alarm == AlarmType.NoSpace)
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>etcd's applier for AlarmRequest: no revision change; Get of None lists every alarm.</summary>
    public MvccResult<AlarmResponse> Alarm(AlarmRequest request)
    {
        var alarm = new AlarmMember(request.MemberId, request.Alarm);
        List<AlarmMember> listed = [];
        switch (request.Action)
        {
            case AlarmAction.Get:
                foreach (AlarmMember raised in _alarms)
                {
                    if (request.Alarm == AlarmType.None || raised.Alarm == request.Alarm)
                    {
                        listed.Add(raised);
                    }
                }
                break;
            // etcd 3.4 stores an alarm of type None too (for member 0 it even fails fatally); Parley stores it alike.
            case AlarmAction.Activate:
                if (Array.IndexOf(_alarms, alarm) < 0)
                {
                    _alarms = [.. _alarms.Append(alarm).Order(AlarmOrder.Instance)];
                }
                listed.Add(alarm); // raised before or now: etcd lists it either way
                break;
            case AlarmAction.Deactivate when Array.IndexOf(_alarms, alarm) >= 0:
                _alarms = [.. _alarms.Where(raised => raised != alarm)];
                listed.Add(alarm);
                break;
            default:
                break;
        }
        return MvccResult<AlarmResponse>.Success(new AlarmResponse { Header = new ResponseHeader(_revision), Alarms = listed });
    }

    /// <summary>The write a NOSPACE alarm refuses (etcd's applierV3Capped; a txn costs by its top-level puts only).</summary>
    private static bool AddsData(WriteCommand command) => command.Request switch
    {
        PutRequest => true,
        LeaseGrantRequest => true,
        TxnRequest txn => txn.Success.Any(op => op.RequestPut is not null) || txn.Failure.Any(op => op.RequestPut is not null),
        _ => false,
    };

    private void WriteAlarms(SnapshotWriter writer)
    {
        writer.WriteUnsigned((ulong)_alarms.Length);
        foreach (AlarmMember alarm in _alarms)
        {
            writer.WriteUnsigned(alarm.MemberId);
            writer.WriteByte((byte)alarm.Alarm);
        }
    }

    private void ReadAlarms(ref SnapshotReader reader)
    {
        var alarms = new AlarmMember[reader.ReadCount()];
        for (int index = 0; index < alarms.Length; index++)
        {
            alarms[index] = new AlarmMember(reader.ReadUnsigned(), (AlarmType)reader.ReadByte());
            SnapshotReader.Require(Enum.IsDefined(alarms[index].Alarm), "unknown alarm type");
            SnapshotReader.Require(index == 0 || AlarmOrder.Instance.Compare(alarms[index - 1], alarms[index]) < 0, "alarms out of order or repeated");
        }
        _alarms = alarms;
    }

    private sealed class AlarmOrder : IComparer<AlarmMember>
    {
        public static readonly AlarmOrder Instance = new();

        public int Compare(AlarmMember x, AlarmMember y) =>
            x.MemberId != y.MemberId ? x.MemberId.CompareTo(y.MemberId) : ((int)x.Alarm).CompareTo((int)y.Alarm);
    }
}
