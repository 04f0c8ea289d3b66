namespace Parley.Mvcc;

/// <summary>
/// A B+tree branch: Count children; Separators[i] is the smallest key under Children[i + 1] when it was made
/// (every key under Children[i + 1] is ≥ it and every key under Children[i] is below it).
/// </summary>
internal sealed class KeyIndexBranch : KeyIndexNode
{
    private KeyIndexSlots<KeyIndexNode> _children;
    private KeyIndexSlots<byte[]> _separators;

    public Span<KeyIndexNode> Children => _children;

    /// <summary>Count - 1 separators in key order; their heads are the node's heads.</summary>
    public Span<byte[]> Separators => _separators;

    /// <summary>The child whose subtree holds key: the number of separators ≤ key.</summary>
    public int ChildIndex(ReadOnlySpan<byte> key)
    {
        int index = LowerBound(Count - 1, key, KeyHead.Of(key, PrefixLength), out bool found);
        return found ? index + 1 : index;
    }

    /// <summary>Sets the prefix length and rewrites every head for it.</summary>
    public void Reencode(int prefixLength)
    {
        PrefixLength = prefixLength;
        EncodeHeads(Count - 1);
    }

    protected override byte[] KeyAt(int slot) => _separators[slot];
}
