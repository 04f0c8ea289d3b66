namespace Parley.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>KV.Range, as etcd's applier runs it (compat doc §4.2–4.3).</summary>
    public MvccResult<RangeResponse> Range(RangeRequest request)
    {
        MvccError error = RequestValidator.ValidateRange(request);
        if (error != MvccError.None)
        {
            return MvccResult<RangeResponse>.Failure(error);
        }
        return RangeAt(request, _revision);
    }

    /// <summary>A range read as of currentRevision (the store's, or the txn's own during a txn).</summary>
    private MvccResult<RangeResponse> RangeAt(RangeRequest request, long currentRevision)
    {
        long revision = request.Revision;
        if (revision > currentRevision)
        {
            return MvccResult<RangeResponse>.Failure(MvccError.FutureRevision);
        }
        if (revision <= 0)
        {
            revision = currentRevision;
        }
        if (revision < _compactRevision)
        {
            return MvccResult<RangeResponse>.Failure(MvccError.Compacted);
        }
        bool filters = request.MinModRevision != 0 || request.MaxModRevision != 0
            || request.MinCreateRevision != 0 || request.MaxCreateRevision != 0;
        // etcd reads limit + 1 keys (to learn "more") unless it must sort or filter everything;
        // it tests the requested order, not the defaulted one, so a target without an order
        // sorts only the first limit + 1 keys. Kept as is for wire compatibility.
        bool readsAll = request.SortOrder != SortOrder.None || filters;
        long scanLimit = readsAll || request.Limit <= 0 || request.Limit == long.MaxValue ? long.MaxValue : request.Limit + 1;
        SortOrder sortOrder = request.SortOrder;
        if (request.SortTarget != SortTarget.Key && sortOrder == SortOrder.None)
        {
            sortOrder = SortOrder.Ascend;
        }
        bool sorts = sortOrder is SortOrder.Ascend or SortOrder.Descend;
        // Values are needed to sort by value even when only keys are returned.
        bool stripLater = request.KeysOnly && sorts && request.SortTarget == SortTarget.Value;
        bool keysOnlyNow = request.KeysOnly && !stripLater;

        List<KeyValue>? kvs = request.CountOnly ? null : new List<KeyValue>((int)Math.Min(scanLimit, 16));
        long count = 0;
        var scan = new KeyRangeScan(_index, request.Key, request.RangeEnd);
        while (scan.TryNext(out KeyRecord record))
        {
            int index = record.VisibleIndexAt(revision);
            if (index < 0)
            {
                continue;
            }
            count++;
            if (kvs is null || kvs.Count >= scanLimit)
            {
                continue;
            }
            ref readonly KeyVersion version = ref record.VersionAt(index);
            if (filters && !PassesFilters(request, version))
            {
                continue;
            }
            kvs.Add(record.ToKeyValue(index, keysOnlyNow));
        }

        bool more = false;
        if (kvs is not null)
        {
            if (sorts)
            {
                kvs.Sort(KeyValueSortComparer.For(request.SortTarget, sortOrder == SortOrder.Descend));
            }
            if (request.Limit > 0 && kvs.Count > request.Limit)
            {
                kvs.RemoveRange((int)request.Limit, kvs.Count - (int)request.Limit);
                more = true;
            }
            if (stripLater)
            {
                for (int index = 0; index < kvs.Count; index++)
                {
                    KeyValue kv = kvs[index];
                    kvs[index] = new KeyValue(kv.Key, kv.CreateRevision, kv.ModRevision, kv.Version, [], kv.Lease);
                }
            }
        }
        return MvccResult<RangeResponse>.Success(new RangeResponse
        {
            Header = new ResponseHeader(currentRevision),
            Kvs = (IReadOnlyList<KeyValue>?)kvs ?? [],
            More = more,
            Count = count,
        });
    }

    private static bool PassesFilters(RangeRequest request, in KeyVersion version) =>
        (request.MaxModRevision == 0 || version.ModRevision <= request.MaxModRevision)
        && (request.MinModRevision == 0 || version.ModRevision >= request.MinModRevision)
        && (request.MaxCreateRevision == 0 || version.CreateRevision <= request.MaxCreateRevision)
        && (request.MinCreateRevision == 0 || version.CreateRevision >= request.MinCreateRevision);
}
