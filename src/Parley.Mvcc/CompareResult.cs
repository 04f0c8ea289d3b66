namespace Parley.Mvcc;

/// <summary>Compare.CompareResult (same numbers as the proto).</summary>
public enum CompareResult
{
    Equal = 0,
    Greater = 1,
    Less = 2,
    NotEqual = 3,
}
