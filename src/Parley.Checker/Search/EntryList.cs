namespace Parley.Checker.Search;

/// <summary>
/// Call and return entries of one partition in time order, as a doubly linked list over array indices.
/// Positions 0..n-1 are entries; position n is the head sentinel; -1 is "none".
/// </summary>
internal sealed class EntryList
{
    public EntryList(int entryCount)
    {
        OperationOf = new int[entryCount];
        IsCall = new bool[entryCount];
        MatchOf = new int[entryCount];
        Next = new int[entryCount + 1];
        Previous = new int[entryCount + 1];
    }

    /// <summary>Operation index of each entry.</summary>
    public int[] OperationOf { get; }

    /// <summary>True for call entries, false for returns.</summary>
    public bool[] IsCall { get; }

    /// <summary>For a call entry, the position of its return.</summary>
    public int[] MatchOf { get; }

    public int[] Next { get; }

    public int[] Previous { get; }
}
