namespace Parley.Mvcc;

/// <summary>A node of the key index B+tree: either a leaf of key records or a branch.</summary>
internal abstract class KeyIndexNode
{
    public int Count { get; set; }
}
