namespace Parley.Mvcc;

/// <summary>
/// A B+tree branch: Count children; Separators[i] is the smallest key under Children[i + 1].
/// </summary>
internal sealed class KeyIndexBranch : KeyIndexNode
{
    public KeyIndexBranch(int capacity)
    {
        Children = new KeyIndexNode[capacity];
        Separators = new byte[capacity - 1][];
    }

    public KeyIndexNode[] Children { get; }

    public byte[][] Separators { get; }

    /// <summary>The child whose subtree holds key: the number of separators ≤ key.</summary>
    public int ChildIndex(ReadOnlySpan<byte> key)
    {
        int low = 0;
        int high = Count - 2;
        while (low <= high)
        {
            int middle = (low + high) >>> 1;
            if (Separators[middle].AsSpan().SequenceCompareTo(key) <= 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }
        return low;
    }
}
