namespace Parley.Mvcc;

/// <summary>A B+tree leaf: key records in key order, linked to the next leaf for range scans.</summary>
internal sealed class KeyIndexLeaf : KeyIndexNode
{
    private KeyIndexSlots<KeyRecord> _records;

    public Span<KeyRecord> Records => _records;

    public KeyIndexLeaf? Next { get; set; }

    /// <summary>First position whose key is ≥ key (Count when none); head is key's head in this leaf.</summary>
    public int LowerBound(ReadOnlySpan<byte> key, out bool found, out ulong head)
    {
        head = KeyHead.Of(key, PrefixLength);
        return LowerBound(Count, key, head, out found);
    }

    /// <summary>Sets the prefix length and rewrites every head for it.</summary>
    public void Reencode(int prefixLength)
    {
        PrefixLength = prefixLength;
        EncodeHeads(Count);
    }

    protected override byte[] KeyAt(int slot) => _records[slot].Key;
}
