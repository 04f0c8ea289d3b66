namespace Parley.Mvcc;

/// <summary>A B+tree leaf: key records in key order, linked to the next leaf for range scans.</summary>
internal sealed class KeyIndexLeaf : KeyIndexNode
{
    public KeyIndexLeaf(int capacity)
    {
        Records = new KeyRecord[capacity];
    }

    public KeyRecord[] Records { get; }

    public KeyIndexLeaf? Next { get; set; }

    /// <summary>First position whose key is ≥ key (Count when none).</summary>
    public int LowerBound(ReadOnlySpan<byte> key, out bool found)
    {
        int low = 0;
        int high = Count - 1;
        while (low <= high)
        {
            int middle = (low + high) >>> 1;
            int order = Records[middle].Key.AsSpan().SequenceCompareTo(key);
            if (order == 0)
            {
                found = true;
                return middle;
            }
            if (order < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }
        found = false;
        return low;
    }
}
