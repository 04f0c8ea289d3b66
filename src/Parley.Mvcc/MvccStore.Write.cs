namespace Parley.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>KV.Put: always a new revision, even for an identical value (compat doc §4.4).</summary>
    public MvccResult<PutResponse> Put(PutRequest request)
    {
        MvccError error = RequestValidator.ValidatePut(request);
        if (error == MvccError.None)
        {
            // etcd's standalone Put looks up the lease before it reads the key.
            error = CheckPutAgainstState(request, leaseFirst: true);
        }
        if (error != MvccError.None)
        {
            return MvccResult<PutResponse>.Failure(error);
        }
        PutResponse response = PutInWrite(request);
        FinishWrite();
        return MvccResult<PutResponse>.Success(response);
    }

    /// <summary>KV.DeleteRange: a new revision only when at least one key was deleted.</summary>
    public MvccResult<DeleteRangeResponse> DeleteRange(DeleteRangeRequest request)
    {
        MvccError error = RequestValidator.ValidateDeleteRange(request);
        if (error != MvccError.None)
        {
            return MvccResult<DeleteRangeResponse>.Failure(error);
        }
        DeleteRangeResponse response = DeleteInWrite(request);
        FinishWrite();
        return MvccResult<DeleteRangeResponse>.Success(response);
    }

    /// <summary>The apply-time checks of a put against the state before the write.</summary>
    /// <param name="deletedInTxn">Whether an earlier op of the same txn deleted the key.</param>
    private MvccError CheckPutAgainstState(PutRequest request, bool leaseFirst, bool deletedInTxn = false)
    {
        bool leaseMissing = request.Lease != 0 && !_leases.ContainsKey(request.Lease);
        if (leaseFirst && leaseMissing)
        {
            return MvccError.LeaseNotFound;
        }
        if ((request.IgnoreValue || request.IgnoreLease) && (deletedInTxn || _index.Find(request.Key) is not { IsLive: true }))
        {
            return MvccError.KeyNotFound;
        }
        return leaseMissing ? MvccError.LeaseNotFound : MvccError.None;
    }

    private PutResponse PutInWrite(PutRequest request)
    {
        KeyRecord record = _index.GetOrAdd(request.Key);
        byte[] value = request.Value;
        long lease = request.Lease;
        KeyValue? previous = null;
        if (record.IsLive)
        {
            ref readonly KeyVersion latest = ref record.Latest;
            if (request.IgnoreValue)
            {
                value = latest.Value!;
            }
            if (request.IgnoreLease)
            {
                lease = latest.Lease;
            }
            if (request.PrevKv)
            {
                previous = record.ToKeyValue(record.VersionCount - 1, keysOnly: false);
            }
        }
        else
        {
            Invariant.Check(!request.IgnoreValue && !request.IgnoreLease, "ignore_value/ignore_lease need an existing key (checked before applying)");
        }
        WriteValue(record, value, lease);
        return new PutResponse { Header = new ResponseHeader(WriteRevision), PrevKv = previous };
    }

    private DeleteRangeResponse DeleteInWrite(DeleteRangeRequest request)
    {
        List<KeyValue>? previous = request.PrevKv ? [] : null;
        long deleted = 0;
        var scan = new KeyRangeScan(_index, request.Key, request.RangeEnd);
        while (scan.TryNext(out KeyRecord record))
        {
            if (!record.IsLive)
            {
                continue;
            }
            previous?.Add(record.ToKeyValue(record.VersionCount - 1, keysOnly: false));
            WriteTombstone(record);
            deleted++;
        }
        return new DeleteRangeResponse
        {
            Header = new ResponseHeader(ReadRevision),
            Deleted = deleted,
            PrevKvs = (IReadOnlyList<KeyValue>?)previous ?? [],
        };
    }
}
