namespace Parley.Mvcc;

/// <summary>
/// Range sort orders. etcd sorts with Go's unstable sort.Sort; ties here fall back to ascending key
/// order, which is what Go's insertion sort gives for small results (under 12) and is deterministic
/// for any size.
/// </summary>
internal sealed class KeyValueSortComparer : IComparer<KeyValue>
{
    private static readonly KeyValueSortComparer[] Instances = Create();

    private readonly SortTarget _target;
    private readonly bool _descending;

    private KeyValueSortComparer(SortTarget target, bool descending)
    {
        _target = target;
        _descending = descending;
    }

    public static KeyValueSortComparer For(SortTarget target, bool descending)
    {
        int index = ((int)target * 2) + (descending ? 1 : 0);
        return index >= 0 && index < Instances.Length ? Instances[index] : Instances[descending ? 1 : 0];
    }

    public int Compare(KeyValue? x, KeyValue? y)
    {
        int order = _target switch
        {
            SortTarget.Version => x!.Version.CompareTo(y!.Version),
            SortTarget.Create => x!.CreateRevision.CompareTo(y!.CreateRevision),
            SortTarget.Mod => x!.ModRevision.CompareTo(y!.ModRevision),
            SortTarget.Value => KeyBytes.Compare(x!.Value, y!.Value),
            _ => KeyBytes.Compare(x!.Key, y!.Key),
        };
        if (_descending)
        {
            order = -order;
        }
        return order != 0 ? order : KeyBytes.Compare(x!.Key, y!.Key);
    }

    private static KeyValueSortComparer[] Create()
    {
        var instances = new KeyValueSortComparer[10];
        for (int target = 0; target < 5; target++)
        {
            instances[target * 2] = new KeyValueSortComparer((SortTarget)target, descending: false);
            instances[(target * 2) + 1] = new KeyValueSortComparer((SortTarget)target, descending: true);
        }
        return instances;
    }
}
