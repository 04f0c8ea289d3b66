namespace Parley.Mvcc;

/// <summary>
/// A node of the key index B+tree: either a leaf of key records or a branch. Its keys (a leaf's record keys, a
/// branch's separators) come with their <see cref="KeyHead"/>s from <see cref="PrefixLength"/> on, so a search
/// compares integers and reads a key's bytes only to separate keys whose heads are equal and truncated.
/// </summary>
internal abstract class KeyIndexNode
{
    private KeyIndexSlots<ulong> _heads;

    /// <summary>Records of a leaf, children of a branch.</summary>
    public int Count { get; set; }

    /// <summary>
    /// How many leading bytes every key under this node shares: the common prefix of its fences (the separators
    /// around it in its ancestors), so it holds for keys inserted later too, and only grows when the node splits.
    /// </summary>
    public int PrefixLength { get; set; }

    /// <summary>Heads of the node's keys in key order (slots past the key count are unused).</summary>
    public Span<ulong> Heads => _heads;

    /// <summary>The key in slot (a leaf's record key, a branch's separator).</summary>
    protected abstract byte[] KeyAt(int slot);

    /// <summary>
    /// The number of the first keyCount keys that are less than key, whose head at <see cref="PrefixLength"/> is
    /// head; found says the key at that position equals key.
    /// </summary>
    protected int LowerBound(int keyCount, ReadOnlySpan<byte> key, ulong head, out bool found)
    {
        ReadOnlySpan<ulong> heads = Heads[..keyCount];
        int low = FirstNotBelow(heads, head);
        if (!KeyHead.IsTruncated(head))
        {
            found = low < keyCount && heads[low] == head;
            return low;
        }
        // Keys with this truncated head agree with key on their first PrefixLength + 7 bytes: the rest orders them.
        int high = FirstNotBelow(heads, head + 1); // a truncated head's low byte is 8: no overflow
        int tailStart = PrefixLength + KeyHead.Bytes;
        ReadOnlySpan<byte> keyTail = key[tailStart..];
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            int order = KeyAt(middle).AsSpan(tailStart).SequenceCompareTo(keyTail);
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
                high = middle;
            }
        }
        found = false;
        return low;
    }

    /// <summary>Writes the heads of the first keyCount keys at the current <see cref="PrefixLength"/>.</summary>
    protected void EncodeHeads(int keyCount)
    {
        Span<ulong> heads = Heads;
        for (int slot = 0; slot < keyCount; slot++)
        {
            heads[slot] = KeyHead.Of(KeyAt(slot), PrefixLength);
        }
    }

    private static int FirstNotBelow(ReadOnlySpan<ulong> heads, ulong head)
    {
        int low = 0;
        int high = heads.Length;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (heads[middle] < head)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }
        return low;
    }
}
