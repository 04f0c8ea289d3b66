namespace Parley.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>
    /// Appends to events every change from query.StartRevision on (in revision order, then in the
    /// order of the ops within a revision), filtered by the query's key range. Stops before a new
    /// revision once query.EventsMax events (or EventBytesMax bytes, or ChangesScannedMax scanned
    /// changes) are gathered, never inside one. A start below the compact
    /// revision fails with <see cref="MvccError.Compacted"/> (the watch is cancelled with
    /// <see cref="EventReadResult.CompactRevision"/>). After a write, reading from
    /// <see cref="Revision"/> yields that write's events.
    /// </summary>
    public EventReadResult ReadEvents(in EventQuery query, List<MvccEvent> events)
    {
        long start = query.StartRevision;
        if (start < _compactRevision)
        {
            return new EventReadResult(MvccError.Compacted, start, _compactRevision);
        }
        if (start > _revision)
        {
            return new EventReadResult(MvccError.None, start, _compactRevision);
        }
        int added = 0;
        long bytes = 0;
        int scanned = 0;
        long revisionInProgress = 0;
        long position = _changes.LowerBound(start);
        for (; position < _changes.Tail; position++)
        {
            ref readonly ChangeEntry entry = ref _changes.At(position);
            if (entry.Revision != revisionInProgress)
            {
                if (added >= query.EventsMax || bytes >= query.EventBytesMax || scanned >= query.ChangesScannedMax)
                {
                    return new EventReadResult(MvccError.None, entry.Revision, _compactRevision);
                }
                revisionInProgress = entry.Revision;
            }
            scanned++;
            if (!query.Matches(entry.Record.Key))
            {
                continue;
            }
            MvccEvent mvccEvent = ToEvent(entry, query.PrevKv);
            events.Add(mvccEvent);
            bytes += EventQuery.EventBytes(mvccEvent);
            added++;
        }
        return new EventReadResult(MvccError.None, _revision + 1, _compactRevision);
    }

    private MvccEvent ToEvent(in ChangeEntry entry, bool withPrevious)
    {
        KeyRecord record = entry.Record;
        long revision = entry.Revision;
        int index = record.IndexOfChange(revision, entry.IsDelete);
        Invariant.Check(index >= 0, "a logged change is retained until compaction drops its entry");
        KeyValue kv = entry.IsDelete
            ? new KeyValue(record.Key, 0, revision, 0, [], 0)
            : record.ToKeyValue(index, keysOnly: false);
        KeyValue? previous = null;
        bool created = !entry.IsDelete && kv.CreateRevision == kv.ModRevision;
        // etcd's watch reads prev_kv as a range at revision - 1, skipped for creations, and absent
        // once that revision is compacted.
        if (withPrevious && !created && revision - 1 >= _compactRevision)
        {
            int previousIndex = record.VisibleIndexAt(revision - 1);
            if (previousIndex >= 0)
            {
                previous = record.ToKeyValue(previousIndex, keysOnly: false);
            }
        }
        return new MvccEvent(entry.IsDelete ? EventType.Delete : EventType.Put, kv, previous);
    }
}
