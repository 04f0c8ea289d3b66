namespace Parley.Mvcc;

/// <summary>
/// Ordered index of key records: a B+tree over byte-string keys with ordinal comparison and linked
/// leaves, so a range scan is one descent then a walk along leaves. Keys are only inserted on the
/// write path; removals happen in bulk at compaction, which rebuilds the tree (compaction is already
/// a full pass, and a rebuilt tree is dense).
/// </summary>
internal sealed class KeyIndex
{
    /// <summary>Records per leaf and children per branch: wide nodes keep the tree shallow (4 levels at 1M keys).</summary>
    public const int NodeCapacity = 64;

    private KeyIndexNode _root;
    private KeyIndexLeaf _firstLeaf;

    public KeyIndex()
    {
        _firstLeaf = new KeyIndexLeaf(NodeCapacity);
        _root = _firstLeaf;
    }

    /// <summary>Number of records (live keys and keys that only have history left).</summary>
    public int Count { get; private set; }

    public KeyRecord? Find(ReadOnlySpan<byte> key)
    {
        KeyIndexLeaf leaf = FindLeaf(key);
        int index = leaf.LowerBound(key, out bool found);
        return found ? leaf.Records[index] : null;
    }

    /// <summary>A cursor at the first record whose key is ≥ key.</summary>
    public KeyIndexCursor Seek(ReadOnlySpan<byte> key)
    {
        KeyIndexLeaf leaf = FindLeaf(key);
        int index = leaf.LowerBound(key, out _);
        return new KeyIndexCursor(leaf, index);
    }

    public KeyIndexCursor First() => new(_firstLeaf, 0);

    /// <summary>The record for key, inserting a new empty one (keyed by the given array) when absent.</summary>
    public KeyRecord GetOrAdd(byte[] key)
    {
        KeyRecord? result = null;
        if (Insert(_root, key, ref result, out KeyIndexNode? right, out byte[]? separator))
        {
            var root = new KeyIndexBranch(NodeCapacity) { Count = 2 };
            root.Children[0] = _root;
            root.Children[1] = right!;
            root.Separators[0] = separator!;
            _root = root;
        }
        return result!;
    }

    /// <summary>Replaces the whole index with records already in strictly ascending key order.</summary>
    public void Rebuild(IReadOnlyList<KeyRecord> ordered)
    {
        var level = new List<KeyIndexNode>();
        var levelKeys = new List<byte[]>();
        KeyIndexLeaf? previous = null;
        for (int start = 0; start < ordered.Count || level.Count == 0; start += NodeCapacity)
        {
            var leaf = new KeyIndexLeaf(NodeCapacity);
            int take = Math.Min(NodeCapacity, ordered.Count - start);
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
        while (level.Count > 1)
        {
            var parents = new List<KeyIndexNode>();
            var parentKeys = new List<byte[]>();
            for (int start = 0; start < level.Count; start += NodeCapacity)
            {
                int take = Math.Min(NodeCapacity, level.Count - start);
                var branch = new KeyIndexBranch(NodeCapacity) { Count = take };
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
        }
        _root = level[0];
        Count = ordered.Count;
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

    /// <summary>Inserts under node; true when node split, with the new right sibling and its smallest key.</summary>
    private bool Insert(KeyIndexNode node, byte[] key, ref KeyRecord? result, out KeyIndexNode? right, out byte[]? separator)
    {
        if (node is KeyIndexLeaf leaf)
        {
            return InsertIntoLeaf(leaf, key, ref result, out right, out separator);
        }
        var branch = (KeyIndexBranch)node;
        int childIndex = branch.ChildIndex(key);
        if (!Insert(branch.Children[childIndex], key, ref result, out KeyIndexNode? childRight, out byte[]? childSeparator))
        {
            right = null;
            separator = null;
            return false;
        }
        return InsertIntoBranch(branch, childIndex, childRight!, childSeparator!, out right, out separator);
    }

    private bool InsertIntoLeaf(KeyIndexLeaf leaf, byte[] key, ref KeyRecord? result, out KeyIndexNode? right, out byte[]? separator)
    {
        right = null;
        separator = null;
        int position = leaf.LowerBound(key, out bool found);
        if (found)
        {
            result = leaf.Records[position];
            return false;
        }
        result = new KeyRecord(key);
        Count++;
        if (leaf.Count < NodeCapacity)
        {
            InsertAt(leaf.Records, leaf.Count, position, result);
            leaf.Count++;
            return false;
        }
        // Split in half; appends at the end (sequential keys) leave the left leaf full instead, so
        // ascending loads pack leaves densely.
        int leftCount = position == NodeCapacity ? NodeCapacity : NodeCapacity / 2;
        var sibling = new KeyIndexLeaf(NodeCapacity) { Next = leaf.Next };
        Array.Copy(leaf.Records, leftCount, sibling.Records, 0, NodeCapacity - leftCount);
        Array.Clear(leaf.Records, leftCount, NodeCapacity - leftCount);
        sibling.Count = NodeCapacity - leftCount;
        leaf.Count = leftCount;
        leaf.Next = sibling;
        if (position <= leftCount && position < NodeCapacity && leftCount != NodeCapacity)
        {
            InsertAt(leaf.Records, leaf.Count, position, result);
            leaf.Count++;
        }
        else
        {
            InsertAt(sibling.Records, sibling.Count, position - leftCount, result);
            sibling.Count++;
        }
        right = sibling;
        separator = sibling.Records[0].Key;
        return true;
    }

    private static bool InsertIntoBranch(KeyIndexBranch branch, int childIndex, KeyIndexNode newChild, byte[] newSeparator, out KeyIndexNode? right, out byte[]? separator)
    {
        right = null;
        separator = null;
        if (branch.Count < NodeCapacity)
        {
            InsertAt(branch.Children, branch.Count, childIndex + 1, newChild);
            InsertAt(branch.Separators, branch.Count - 1, childIndex, newSeparator);
            branch.Count++;
            return false;
        }
        // Build the over-full sequence in scratch arrays, then split it around the middle separator.
        var children = new KeyIndexNode[NodeCapacity + 1];
        var separators = new byte[NodeCapacity][];
        Array.Copy(branch.Children, children, NodeCapacity);
        Array.Copy(branch.Separators, separators, NodeCapacity - 1);
        InsertAt(children, NodeCapacity, childIndex + 1, newChild);
        InsertAt(separators, NodeCapacity - 1, childIndex, newSeparator);
        int leftChildren = (NodeCapacity + 1) / 2;
        var sibling = new KeyIndexBranch(NodeCapacity) { Count = NodeCapacity + 1 - leftChildren };
        Array.Clear(branch.Children);
        Array.Clear(branch.Separators);
        Array.Copy(children, branch.Children, leftChildren);
        Array.Copy(separators, branch.Separators, leftChildren - 1);
        branch.Count = leftChildren;
        Array.Copy(children, leftChildren, sibling.Children, 0, sibling.Count);
        Array.Copy(separators, leftChildren, sibling.Separators, 0, sibling.Count - 1);
        right = sibling;
        separator = separators[leftChildren - 1];
        return true;
    }

    private static void InsertAt<T>(T[] items, int count, int position, T item)
    {
        Array.Copy(items, position, items, position + 1, count - position);
        items[position] = item;
    }
}
