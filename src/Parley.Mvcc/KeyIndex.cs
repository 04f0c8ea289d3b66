using System.Runtime.CompilerServices;

namespace Parley.Mvcc;

/// <summary>
/// Ordered index of key records: a B+tree over byte-string keys with ordinal comparison and linked
/// leaves, so a range scan is one descent then a walk along leaves. Keys are only inserted on the
/// write path; removals happen in bulk at compaction, which rebuilds the tree (compaction is already
/// a full pass, and a rebuilt tree is dense).
/// Nodes search inline integer heads of their keys taken past the prefix all keys of the node share (see
/// <see cref="KeyHead"/>), so a descent mostly reads node memory only, not each compared key's array: at 1M keys
/// the key arrays are scattered over the heap and each one read is a cache miss.
/// A node's shared prefix comes from its fences, the separators around it; where a node has no separator on one
/// side (the root, the first and last node of each level) the index's smallest or largest key stands in, so that
/// keys with a common prefix ("/registry/...") leave it out of the heads everywhere. Searches for keys outside
/// [smallest, largest] are answered before the descent, and an insert that moves either end first narrows the
/// prefix of the nodes along that edge.
/// </summary>
internal sealed class KeyIndex
{
    /// <summary>Records per leaf and children per branch: wide nodes keep the tree shallow (4 levels at 1M keys).</summary>
    public const int NodeCapacityMax = 64;

    private const int NodeCapacityMin = 4;

    private readonly int _nodeCapacity;

    // Scratch for a branch split: the over-full sequence before it is cut in two.
    private readonly KeyIndexNode[] _splitChildren;
    private readonly byte[][] _splitSeparators;

    private KeyIndexNode _root;
    private KeyIndexLeaf _firstLeaf;
    private byte[]? _smallestKey; // null exactly when the index is empty
    private byte[]? _largestKey;

    /// <param name="nodeCapacity">Records per leaf and children per branch; below the maximum only to test deep trees.</param>
    public KeyIndex(int nodeCapacity = NodeCapacityMax)
    {
        Invariant.Check(nodeCapacity is >= NodeCapacityMin and <= NodeCapacityMax, "key index node capacity within bounds");
        _nodeCapacity = nodeCapacity;
        _splitChildren = new KeyIndexNode[nodeCapacity + 1];
        _splitSeparators = new byte[nodeCapacity][];
        _firstLeaf = new KeyIndexLeaf();
        _root = _firstLeaf;
    }

    /// <summary>Number of records (live keys and keys that only have history left).</summary>
    public int Count { get; private set; }

    /// <summary>The bytes every key shares that the root's heads leave out (for tests).</summary>
    public int RootPrefixLength => _root.PrefixLength;

    public KeyRecord? Find(ReadOnlySpan<byte> key)
    {
        if (!IsWithinKeys(key))
        {
            return null;
        }
        KeyIndexLeaf leaf = FindLeaf(key);
        int index = leaf.LowerBound(key, out bool found, out _);
        return found ? leaf.Records[index] : null;
    }

    /// <summary>A cursor at the first record whose key is ≥ key, ending before the first key ≥ end (null = no end).</summary>
    public KeyIndexCursor Seek(ReadOnlySpan<byte> key, byte[]? end = null)
    {
        if (_smallestKey is null || KeyBytes.Compare(key, _smallestKey) <= 0)
        {
            return new KeyIndexCursor(_firstLeaf, 0, end);
        }
        if (KeyBytes.Compare(key, _largestKey) > 0)
        {
            return default; // past the last key
        }
        KeyIndexLeaf leaf = FindLeaf(key);
        int index = leaf.LowerBound(key, out _, out _);
        return new KeyIndexCursor(leaf, index, end);
    }

    public KeyIndexCursor First() => new(_firstLeaf, 0);

    /// <summary>The record for key, inserting a new empty one (keyed by the given array) when absent.</summary>
    public KeyRecord GetOrAdd(byte[] key)
    {
        WidenKeys(key);
        KeyRecord? result = null;
        if (Insert(_root, key, low: null, high: null, ref result, out KeyIndexNode? right, out byte[]? separator))
        {
            var root = new KeyIndexBranch { Count = 2, PrefixLength = PrefixLengthWithin(null, null) };
            root.Children[0] = _root;
            root.Children[1] = right!;
            root.Separators[0] = separator!;
            root.Heads[0] = KeyHead.Of(separator, root.PrefixLength);
            _root = root;
        }
        return result!;
    }

    /// <summary>Replaces the whole index with records already in strictly ascending key order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once, at start-up, over every key (see MvccStore.ReadState)
    public void Rebuild(IReadOnlyList<KeyRecord> ordered)
    {
        var level = new List<KeyIndexNode>();
        var levelKeys = new List<byte[]>(); // the smallest key under each node of the level
        KeyIndexLeaf? previous = null;
        for (int start = 0; start < ordered.Count || level.Count == 0; start += _nodeCapacity)
        {
            var leaf = new KeyIndexLeaf();
            int take = Math.Min(_nodeCapacity, ordered.Count - start);
            for (int index = 0; index < take; index++)
            {
                KeyRecord record = ordered[start + index];
                Invariant.Check(index + start == 0 || KeyBytes.Compare(ordered[start + index - 1].Key, record.Key) < 0, "rebuild input is sorted and unique");
                leaf.Records[index] = record;
            }
            leaf.Count = take;
            if (previous is not null)
            {
                previous.Next = leaf;
            }
            previous = leaf;
            level.Add(leaf);
            levelKeys.Add(take > 0 ? leaf.Records[0].Key : []);
        }
        _firstLeaf = (KeyIndexLeaf)level[0];
        _smallestKey = ordered.Count > 0 ? ordered[0].Key : null;
        _largestKey = ordered.Count > 0 ? ordered[^1].Key : null;
        EncodeLevel(level, levelKeys);
        while (level.Count > 1)
        {
            var parents = new List<KeyIndexNode>();
            var parentKeys = new List<byte[]>();
            for (int start = 0; start < level.Count; start += _nodeCapacity)
            {
                int take = Math.Min(_nodeCapacity, level.Count - start);
                var branch = new KeyIndexBranch { Count = take };
                for (int index = 0; index < take; index++)
                {
                    branch.Children[index] = level[start + index];
                    if (index > 0)
                    {
                        branch.Separators[index - 1] = levelKeys[start + index];
                    }
                }
                parents.Add(branch);
                parentKeys.Add(levelKeys[start]);
            }
            level = parents;
            levelKeys = parentKeys;
            EncodeLevel(level, levelKeys);
        }
        _root = level[0];
        Count = ordered.Count;
    }

    /// <summary>
    /// Checks the whole tree (for tests): keys strictly ascending along the leaves and within every node's fences,
    /// every key sharing its node's prefix, every head equal to its key's, counts, ends and leaf links consistent.
    /// </summary>
    public void CheckStructure()
    {
        KeyIndexLeaf? expectedLeaf = _firstLeaf;
        int records = CheckNode(_root, low: null, high: null, ref expectedLeaf);
        Invariant.Check(expectedLeaf is null, "the leaf chain ends at the last leaf");
        Invariant.Check(records == Count, "record count matches the leaves");
        Invariant.Check((_smallestKey is null) == (Count == 0) && (_largestKey is null) == (Count == 0), "the ends are known exactly when there are keys");
        if (Count > 0)
        {
            KeyIndexCursor cursor = First();
            cursor.TryNext(out KeyRecord first);
            Invariant.Check(ReferenceEquals(first.Key, _smallestKey), "the smallest key is the first record's");
            Invariant.Check(KeyBytes.Compare(LastLeaf().Records[LastLeaf().Count - 1].Key, _largestKey) == 0, "the largest key is the last record's");
        }
    }

    /// <summary>Whether key lies within [smallest key, largest key] (false when empty): only such keys may descend.</summary>
    private bool IsWithinKeys(ReadOnlySpan<byte> key) =>
        _smallestKey is not null && KeyBytes.Compare(key, _smallestKey) >= 0 && KeyBytes.Compare(key, _largestKey) <= 0;

    /// <summary>
    /// Before inserting key: makes it one of the ends when it lies outside them, and narrows the prefix of the
    /// nodes along that edge (whose missing fence the end stands in for) to what they share with it.
    /// </summary>
    private void WidenKeys(byte[] key)
    {
        if (_smallestKey is null)
        {
            _smallestKey = key;
            _largestKey = key;
            _root.PrefixLength = 0; // empty: no heads to rewrite
            return;
        }
        bool belowSmallest = KeyBytes.Compare(key, _smallestKey) < 0;
        if (!belowSmallest && KeyBytes.Compare(key, _largestKey) <= 0)
        {
            return;
        }
        if (belowSmallest)
        {
            _smallestKey = key;
        }
        else
        {
            _largestKey = key;
        }
        KeyIndexNode node = _root;
        byte[]? low = null;
        byte[]? high = null;
        while (true)
        {
            int prefixLength = PrefixLengthWithin(low, high);
            bool isLeaf = node is KeyIndexLeaf;
            if (prefixLength < node.PrefixLength)
            {
                if (isLeaf)
                {
                    ((KeyIndexLeaf)node).Reencode(prefixLength);
                }
                else
                {
                    ((KeyIndexBranch)node).Reencode(prefixLength);
                }
            }
            if (isLeaf)
            {
                return;
            }
            var branch = (KeyIndexBranch)node;
            int child = belowSmallest ? 0 : branch.Count - 1;
            if (belowSmallest && branch.Count > 1)
            {
                high = branch.Separators[0];
            }
            else if (!belowSmallest && branch.Count > 1)
            {
                low = branch.Separators[branch.Count - 2];
            }
            node = branch.Children[child];
        }
    }

    /// <summary>The prefix length of a node whose fences are low and high, the index's ends standing in for missing ones.</summary>
    private int PrefixLengthWithin(byte[]? low, byte[]? high) => KeyHead.FencePrefixLength(low ?? _smallestKey, high ?? _largestKey);

    private KeyIndexLeaf LastLeaf()
    {
        KeyIndexNode node = _root;
        while (node is KeyIndexBranch branch)
        {
            node = branch.Children[branch.Count - 1];
        }
        return (KeyIndexLeaf)node;
    }

    private KeyIndexLeaf FindLeaf(ReadOnlySpan<byte> key)
    {
        KeyIndexNode node = _root;
        while (node is KeyIndexBranch branch)
        {
            node = branch.Children[branch.ChildIndex(key)];
        }
        return (KeyIndexLeaf)node;
    }

    /// <summary>
    /// Inserts under node, whose keys lie in [low, high) (null = unbounded); true when node split, with the new
    /// right sibling and its smallest key.
    /// </summary>
    private bool Insert(KeyIndexNode node, byte[] key, byte[]? low, byte[]? high, ref KeyRecord? result, out KeyIndexNode? right, out byte[]? separator)
    {
        if (node is KeyIndexLeaf leaf)
        {
            return InsertIntoLeaf(leaf, key, low, high, ref result, out right, out separator);
        }
        var branch = (KeyIndexBranch)node;
        int childIndex = branch.ChildIndex(key);
        byte[]? childLow = childIndex > 0 ? branch.Separators[childIndex - 1] : low;
        byte[]? childHigh = childIndex < branch.Count - 1 ? branch.Separators[childIndex] : high;
        if (!Insert(branch.Children[childIndex], key, childLow, childHigh, ref result, out KeyIndexNode? childRight, out byte[]? childSeparator))
        {
            right = null;
            separator = null;
            return false;
        }
        return InsertIntoBranch(branch, childIndex, childRight!, childSeparator!, low, high, out right, out separator);
    }

    private bool InsertIntoLeaf(KeyIndexLeaf leaf, byte[] key, byte[]? low, byte[]? high, ref KeyRecord? result, out KeyIndexNode? right, out byte[]? separator)
    {
        right = null;
        separator = null;
        int position = leaf.LowerBound(key, out bool found, out ulong head);
        if (found)
        {
            result = leaf.Records[position];
            return false;
        }
        result = new KeyRecord(key);
        Count++;
        int capacity = _nodeCapacity;
        if (leaf.Count < capacity)
        {
            InsertIntoLeafAt(leaf, position, result, head);
            return false;
        }
        // Split in half; appends at the end (sequential keys) leave the left leaf full instead, so
        // ascending loads pack leaves densely.
        int leftCount = position == capacity ? capacity : capacity / 2;
        var sibling = new KeyIndexLeaf { Next = leaf.Next, PrefixLength = leaf.PrefixLength, Count = capacity - leftCount };
        leaf.Records[leftCount..capacity].CopyTo(sibling.Records);
        leaf.Heads[leftCount..capacity].CopyTo(sibling.Heads);
        leaf.Records[leftCount..capacity].Clear();
        leaf.Count = leftCount;
        leaf.Next = sibling;
        if (leftCount != capacity && position <= leftCount)
        {
            InsertIntoLeafAt(leaf, position, result, head);
        }
        else
        {
            InsertIntoLeafAt(sibling, position - leftCount, result, head);
        }
        separator = sibling.Records[0].Key;
        // Narrower fences may share a longer prefix; heads are rewritten only when it grew.
        int leftPrefixLength = PrefixLengthWithin(low, separator);
        if (leftPrefixLength != leaf.PrefixLength)
        {
            leaf.Reencode(leftPrefixLength);
        }
        int rightPrefixLength = PrefixLengthWithin(separator, high);
        if (rightPrefixLength != sibling.PrefixLength)
        {
            sibling.Reencode(rightPrefixLength);
        }
        right = sibling;
        return true;
    }

    private static void InsertIntoLeafAt(KeyIndexLeaf leaf, int position, KeyRecord record, ulong head)
    {
        InsertAt(leaf.Records, leaf.Count, position, record);
        InsertAt(leaf.Heads, leaf.Count, position, head);
        leaf.Count++;
    }

    private bool InsertIntoBranch(KeyIndexBranch branch, int childIndex, KeyIndexNode newChild, byte[] newSeparator, byte[]? low, byte[]? high, out KeyIndexNode? right, out byte[]? separator)
    {
        right = null;
        separator = null;
        int capacity = _nodeCapacity;
        if (branch.Count < capacity)
        {
            InsertAt(branch.Children, branch.Count, childIndex + 1, newChild);
            InsertAt(branch.Separators, branch.Count - 1, childIndex, newSeparator);
            InsertAt(branch.Heads, branch.Count - 1, childIndex, KeyHead.Of(newSeparator, branch.PrefixLength));
            branch.Count++;
            return false;
        }
        // Build the over-full sequence in scratch arrays, then split it around the middle separator.
        Span<KeyIndexNode> children = _splitChildren;
        Span<byte[]> separators = _splitSeparators;
        branch.Children[..capacity].CopyTo(children);
        branch.Separators[..(capacity - 1)].CopyTo(separators);
        InsertAt(children, capacity, childIndex + 1, newChild);
        InsertAt(separators, capacity - 1, childIndex, newSeparator);
        int leftChildren = (capacity + 1) / 2;
        var sibling = new KeyIndexBranch { Count = capacity + 1 - leftChildren };
        branch.Children.Clear();
        branch.Separators.Clear();
        children[..leftChildren].CopyTo(branch.Children);
        separators[..(leftChildren - 1)].CopyTo(branch.Separators);
        branch.Count = leftChildren;
        children[leftChildren..].CopyTo(sibling.Children);
        separators[leftChildren..].CopyTo(sibling.Separators);
        separator = separators[leftChildren - 1];
        children.Clear();
        separators.Clear();
        // Branch splits are rare (one per ~32 leaf splits): rewrite both halves' heads.
        branch.Reencode(PrefixLengthWithin(low, separator));
        sibling.Reencode(PrefixLengthWithin(separator, high));
        right = sibling;
        return true;
    }

    private static void InsertAt<T>(Span<T> items, int count, int position, T item)
    {
        items[position..count].CopyTo(items[(position + 1)..]);
        items[position] = item;
    }

    /// <summary>Sets the prefix length of every node of a level from its fences (the smallest keys around it) and encodes its heads.</summary>
    private void EncodeLevel(List<KeyIndexNode> level, List<byte[]> levelKeys)
    {
        for (int index = 0; index < level.Count; index++)
        {
            byte[]? low = index > 0 ? levelKeys[index] : null;
            byte[]? high = index + 1 < level.Count ? levelKeys[index + 1] : null;
            int prefixLength = PrefixLengthWithin(low, high);
            if (level[index] is KeyIndexLeaf leaf)
            {
                leaf.Reencode(prefixLength);
            }
            else
            {
                ((KeyIndexBranch)level[index]).Reencode(prefixLength);
            }
        }
    }

    private int CheckNode(KeyIndexNode node, byte[]? low, byte[]? high, ref KeyIndexLeaf? expectedLeaf)
    {
        Invariant.Check(node.PrefixLength <= PrefixLengthWithin(low, high), "a node's prefix is shared by its fences (or the index's ends)");
        if (node is KeyIndexLeaf leaf)
        {
            Invariant.Check(ReferenceEquals(leaf, expectedLeaf), "leaves are linked in key order");
            Invariant.Check(leaf.Count <= _nodeCapacity && (leaf.Count > 0 || Count == 0), "a leaf holds 1..capacity records");
            for (int slot = 0; slot < leaf.Count; slot++)
            {
                CheckKey(node, slot, leaf.Records[slot].Key, low, high);
                Invariant.Check(slot == 0 || KeyBytes.Compare(leaf.Records[slot - 1].Key, leaf.Records[slot].Key) < 0, "leaf keys ascend");
            }
            expectedLeaf = leaf.Next;
            return leaf.Count;
        }
        var branch = (KeyIndexBranch)node;
        Invariant.Check(branch.Count >= 1 && branch.Count <= _nodeCapacity, "a branch holds 1..capacity children (a rebuild may leave one child in its last branch of a level)");
        int records = 0;
        for (int child = 0; child < branch.Count; child++)
        {
            byte[]? childLow = child > 0 ? branch.Separators[child - 1] : low;
            byte[]? childHigh = child < branch.Count - 1 ? branch.Separators[child] : high;
            if (child < branch.Count - 1)
            {
                CheckKey(node, child, branch.Separators[child], low, high);
                Invariant.Check(child == 0 || KeyBytes.Compare(branch.Separators[child - 1], branch.Separators[child]) < 0, "separators ascend");
            }
            records += CheckNode(branch.Children[child], childLow, childHigh, ref expectedLeaf);
        }
        return records;
    }

    private void CheckKey(KeyIndexNode node, int slot, byte[] key, byte[]? low, byte[]? high)
    {
        Invariant.Check(KeyBytes.Compare(_smallestKey, key) <= 0 && KeyBytes.Compare(key, _largestKey) <= 0, "a key lies within the index's ends");
        Invariant.Check(low is null || KeyBytes.Compare(low, key) <= 0, "a key is not below its node's low fence");
        Invariant.Check(high is null || KeyBytes.Compare(key, high) < 0, "a key is below its node's high fence");
        Invariant.Check(node.Heads[slot] == KeyHead.Of(key, node.PrefixLength), "a slot's head is its key's head");
    }
}
