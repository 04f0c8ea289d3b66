using System.Runtime.CompilerServices;

namespace Parley.Mvcc;

/// <summary>
/// The fixed slots of a key index node, inline in the node object: a descent then touches one object per level
/// instead of the node and its separate arrays. Sized for <see cref="KeyIndex.NodeCapacityMax"/>.
/// </summary>
[InlineArray(KeyIndex.NodeCapacityMax)]
internal struct KeyIndexSlots<T>
{
    private T _element;
}
