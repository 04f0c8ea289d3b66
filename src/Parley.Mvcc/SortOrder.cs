namespace Parley.Mvcc;

/// <summary>RangeRequest.SortOrder (same numbers as the proto).</summary>
public enum SortOrder
{
    None = 0,
    Ascend = 1,
    Descend = 2,
}
