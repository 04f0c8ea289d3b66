namespace Parley.Mvcc;

/// <summary>etcdserverpb.AlarmType (same numbers).</summary>
public enum AlarmType
{
    None = 0,

    /// <summary>The backend outgrew --quota-backend-bytes: writes that add data are refused until disarmed.</summary>
    NoSpace = 1,

    Corrupt = 2,
}
