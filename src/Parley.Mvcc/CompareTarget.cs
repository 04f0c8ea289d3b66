namespace Parley.Mvcc;

/// <summary>Compare.CompareTarget (same numbers as the proto).</summary>
public enum CompareTarget
{
    Version = 0,
    Create = 1,
    Mod = 2,
    Value = 3,
    Lease = 4,
}
