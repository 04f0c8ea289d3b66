using Parley.Mvcc;

namespace Parley.Server.Watch;

/// <summary>
/// One watcher on a watch stream: its key range and options as etcd normalises them (empty key = "\0"; range end
/// "\0" = every key ≥ key), and <see cref="NextRevision"/>, the first revision not yet examined for it. Everything
/// below NextRevision that matched was sent, so a response's header revision NextRevision - 1 is always truthful.
/// </summary>
internal sealed class Watcher
{
    public Watcher(long id, byte[] key, byte[]? rangeEnd, long nextRevision, bool prevKv, bool fragment, bool progressNotify, bool noPut, bool noDelete)
    {
        Id = id;
        Key = key;
        RangeEnd = rangeEnd;
        NextRevision = nextRevision;
        PrevKv = prevKv;
        Fragment = fragment;
        ProgressNotify = progressNotify;
        NoPut = noPut;
        NoDelete = noDelete;
    }

    public long Id { get; }

    public byte[] Key { get; }

    public byte[]? RangeEnd { get; }

    public bool PrevKv { get; }

    public bool Fragment { get; }

    public bool ProgressNotify { get; }

    public bool NoPut { get; }

    public bool NoDelete { get; }

    public long NextRevision { get; set; }

    /// <summary>Events went out since the last progress tick (then no progress notification is due).</summary>
    public bool SentSinceProgressTick { get; set; }

    public EventQuery Query(int eventsMax, long eventBytesMax) => new(NextRevision, Key, RangeEnd, PrevKv, eventsMax, eventBytesMax);

    public bool Wants(MvccEvent mvccEvent) => mvccEvent.Type == EventType.Delete ? !NoDelete : !NoPut;
}
