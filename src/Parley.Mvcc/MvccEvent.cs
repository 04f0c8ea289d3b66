namespace Parley.Mvcc;

/// <summary>
/// mvccpb.Event. A delete's <see cref="Kv"/> holds only the key and the deletion revision.
/// <see cref="PrevKv"/> is the key as of revision - 1 when asked, except for puts that created the
/// key, and absent when that revision is compacted (etcd's watch rules).
/// </summary>
public sealed class MvccEvent
{
    public MvccEvent(EventType type, KeyValue kv, KeyValue? prevKv)
    {
        Type = type;
        Kv = kv;
        PrevKv = prevKv;
    }

    public EventType Type { get; }

    public KeyValue Kv { get; }

    public KeyValue? PrevKv { get; }

    public override string ToString() => $"{Type} {Kv}";
}
