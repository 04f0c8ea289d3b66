namespace Parley.Mvcc;

/// <summary>RangeRequest.SortTarget (same numbers as the proto).</summary>
public enum SortTarget
{
    Key = 0,
    Version = 1,
    Create = 2,
    Mod = 3,
    Value = 4,
}
