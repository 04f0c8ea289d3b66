namespace Parley.Mvcc;

/// <summary>etcdserverpb.AlarmRequest.AlarmAction (same numbers).</summary>
public enum AlarmAction
{
    Get = 0,
    Activate = 1,
    Deactivate = 2,
}
