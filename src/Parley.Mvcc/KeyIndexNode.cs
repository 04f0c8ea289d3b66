using System.Numerics;
using System.Runtime.Intrinsics;

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
        (int low, int high) = Rank(keyCount, head);
        if (!KeyHead.IsTruncated(head))
        {
            found = low < high;
            return low;
        }
        // Keys with this truncated head agree with key on their first PrefixLength + 7 bytes: the rest orders them.
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

    /// <summary>
    /// How many of the first keyCount heads are below head, and how many are at or below it (the heads ascend, so
    /// the equal ones lie between). A vector scan rather than a binary search: it reads every head line of the
    /// node, but as independent loads that overlap, where a binary search waits for each probe's cache miss in
    /// turn (and mispredicts its branches).
    /// </summary>
    private (int Below, int AtOrBelow) Rank(int keyCount, ulong head)
    {
        ReadOnlySpan<ulong> heads = Heads; // all NodeCapacityMax slots: whole vectors never run past the buffer
        int below = 0;
        int atOrBelow = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<ulong> target = Vector512.Create(head);
            for (int start = 0; start < keyCount; start += Vector512<ulong>.Count)
            {
                Vector512<ulong> slice = Vector512.Create(heads.Slice(start, Vector512<ulong>.Count));
                ulong valid = ValidLanes(keyCount - start, Vector512<ulong>.Count);
                below += BitOperations.PopCount(Vector512.LessThan(slice, target).ExtractMostSignificantBits() & valid);
                atOrBelow += BitOperations.PopCount(Vector512.LessThanOrEqual(slice, target).ExtractMostSignificantBits() & valid);
            }
            return (below, atOrBelow);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<ulong> target = Vector256.Create(head);
            for (int start = 0; start < keyCount; start += Vector256<ulong>.Count)
            {
                Vector256<ulong> slice = Vector256.Create(heads.Slice(start, Vector256<ulong>.Count));
                ulong valid = ValidLanes(keyCount - start, Vector256<ulong>.Count);
                below += BitOperations.PopCount(Vector256.LessThan(slice, target).ExtractMostSignificantBits() & valid);
                atOrBelow += BitOperations.PopCount(Vector256.LessThanOrEqual(slice, target).ExtractMostSignificantBits() & valid);
            }
            return (below, atOrBelow);
        }
        for (int slot = 0; slot < keyCount; slot++)
        {
            below += heads[slot] < head ? 1 : 0;
            atOrBelow += heads[slot] <= head ? 1 : 0;
        }
        return (below, atOrBelow);
    }

    /// <summary>Lane mask of a vector whose first remaining lanes hold heads.</summary>
    private static ulong ValidLanes(int remaining, int lanes) => remaining >= lanes ? ulong.MaxValue : (1UL << remaining) - 1;
}
