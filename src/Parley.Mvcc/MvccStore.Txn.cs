namespace Parley.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>
    /// KV.Txn as etcd 3.4 applies it: validate; evaluate the compares of this txn and of every nested
    /// txn on the chosen path against the state before the txn; check puts (ignore flags, leases)
    /// and ranges (revisions) on that path, failing the whole txn before anything changes; then run
    /// the ops in order, reads seeing earlier writes; one new revision if anything changed.
    /// </summary>
    public MvccResult<TxnResponse> Txn(TxnRequest request)
    {
        MvccError error = RequestValidator.ValidateTxn(request, _options.TxnOperationsMax);
        if (error != MvccError.None)
        {
            return MvccResult<TxnResponse>.Failure(error);
        }
        Invariant.Check(_pendingChanges == 0, "a txn starts with no pending changes");
        var path = new List<bool>(1);
        ComputePath(request, path);
        int position = 0;
        error = CheckPath(request, path, ref position, checkPuts: true, writesBefore: []);
        if (error == MvccError.None)
        {
            position = 0;
            error = CheckPath(request, path, ref position, checkPuts: false, writesBefore: []);
        }
        if (error != MvccError.None)
        {
            return MvccResult<TxnResponse>.Failure(error);
        }
        position = 0;
        bool succeeded = path[position];
        ResponseOp[] responses = ApplyBranch(request, path, ref position);
        var response = new TxnResponse
        {
            Header = new ResponseHeader(ReadRevision),
            Succeeded = succeeded,
            Responses = responses,
        };
        FinishWrite();
        return MvccResult<TxnResponse>.Success(response);
    }

    /// <summary>Compare results of this txn, then of each nested txn in the chosen branch, depth first.</summary>
    private void ComputePath(TxnRequest request, List<bool> path)
    {
        bool succeeded = true;
        foreach (Compare compare in request.Compare)
        {
            if (!Evaluate(compare))
            {
                succeeded = false;
                break;
            }
        }
        path.Add(succeeded);
        foreach (RequestOp op in succeeded ? request.Success : request.Failure)
        {
            if (op.RequestTxn is { } nested)
            {
                ComputePath(nested, path);
            }
        }
    }

    /// <param name="writesBefore">
    /// The puts and deletes met so far on the path, in order. A put with ignore_value/ignore_lease needs its key
    /// live at the moment it runs: a delete earlier in the same txn can remove it without tripping the duplicate-key
    /// rule (a from-key delete overlaps no put there), and etcd 3.4 then panics while applying. Parley refuses the
    /// whole txn with "key not found" instead, before anything changes.
    /// </param>
    private MvccError CheckPath(TxnRequest request, List<bool> path, ref int position, bool checkPuts, List<RequestOp> writesBefore)
    {
        bool succeeded = path[position++];
        foreach (RequestOp op in succeeded ? request.Success : request.Failure)
        {
            MvccError error = MvccError.None;
            if (op.RequestTxn is { } nested)
            {
                error = CheckPath(nested, path, ref position, checkPuts, writesBefore);
            }
            else if (checkPuts && op.RequestPut is { } put)
            {
                // Only the ignore flags ask whether an earlier op deleted the key; scanning the earlier writes for
                // every put would make a txn of n puts cost n^2 key comparisons.
                bool deletedInTxn = (put.IgnoreValue || put.IgnoreLease) && IsLiveAfter(writesBefore, put.Key) == false;
                error = CheckPutAgainstState(put, leaseFirst: false, deletedInTxn);
                writesBefore.Add(op);
            }
            else if (checkPuts && op.RequestDeleteRange is not null)
            {
                writesBefore.Add(op);
            }
            else if (!checkPuts && op.RequestRange is { Revision: not 0 } range)
            {
                error = range.Revision > _revision ? MvccError.FutureRevision
                    : range.Revision < _compactRevision ? MvccError.Compacted
                    : MvccError.None;
            }
            if (error != MvccError.None)
            {
                return error;
            }
        }
        return MvccError.None;
    }

    /// <summary>Whether <paramref name="key"/> is live after <paramref name="writes"/>; null when they don't touch it.</summary>
    private static bool? IsLiveAfter(List<RequestOp> writes, byte[] key)
    {
        for (int index = writes.Count - 1; index >= 0; index--)
        {
            if (writes[index].RequestPut is { } put)
            {
                if (KeyBytes.Compare(put.Key, key) == 0)
                {
                    return true;
                }
            }
            else if (DeleteCovers(writes[index].RequestDeleteRange!, key))
            {
                return false;
            }
        }
        return null;
    }

    /// <summary>Whether a delete removes <paramref name="key"/> (a single key, [key, range_end), or from key on).</summary>
    private static bool DeleteCovers(DeleteRangeRequest delete, byte[] key)
    {
        if (delete.RangeEnd.Length == 0)
        {
            return KeyBytes.Compare(delete.Key, key) == 0;
        }
        return KeyBytes.Compare(delete.Key, key) <= 0
            && (KeyBytes.IsFromKey(delete.RangeEnd) || KeyBytes.Compare(key, delete.RangeEnd) < 0);
    }

    private ResponseOp[] ApplyBranch(TxnRequest request, List<bool> path, ref int position)
    {
        bool succeeded = path[position++];
        IReadOnlyList<RequestOp> ops = succeeded ? request.Success : request.Failure;
        var responses = new ResponseOp[ops.Count];
        for (int index = 0; index < ops.Count; index++)
        {
            RequestOp op = ops[index];
            if (op.RequestRange is { } range)
            {
                MvccResult<RangeResponse> result = RangeAt(range, ReadRevision);
                Invariant.Check(result.IsSuccess, "a txn range was checked before applying");
                responses[index] = new ResponseOp { ResponseRange = result.Value };
            }
            else if (op.RequestPut is { } put)
            {
                responses[index] = new ResponseOp { ResponsePut = PutInWrite(put) };
            }
            else if (op.RequestDeleteRange is { } delete)
            {
                responses[index] = new ResponseOp { ResponseDeleteRange = DeleteInWrite(delete) };
            }
            else
            {
                TxnRequest nested = op.RequestTxn!;
                bool nestedSucceeded = path[position];
                ResponseOp[] nestedResponses = ApplyBranch(nested, path, ref position);
                // A nested txn's own header stays empty, as in etcd.
                responses[index] = new ResponseOp
                {
                    ResponseTxn = new TxnResponse { Succeeded = nestedSucceeded, Responses = nestedResponses },
                };
            }
        }
        return responses;
    }

    /// <summary>
    /// One compare against the current state: every key in the range must satisfy it; an empty range
    /// compares as a zero key-value, except that a value compare on it is always false.
    /// </summary>
    private bool Evaluate(Compare compare)
    {
        bool any = false;
        var scan = new KeyRangeScan(_index, compare.Key, compare.RangeEnd);
        while (scan.TryNext(out KeyRecord record))
        {
            if (!record.IsLive)
            {
                continue;
            }
            any = true;
            ref readonly KeyVersion latest = ref record.Latest;
            if (!Satisfies(compare, latest.Version, latest.CreateRevision, latest.ModRevision, latest.Lease, latest.Value))
            {
                return false;
            }
        }
        if (!any)
        {
            return compare.Target != CompareTarget.Value && Satisfies(compare, 0, 0, 0, 0, []);
        }
        return true;
    }

    private static bool Satisfies(Compare compare, long version, long createRevision, long modRevision, long lease, byte[]? value)
    {
        int order = compare.Target switch
        {
            CompareTarget.Version => version.CompareTo(compare.Version),
            CompareTarget.Create => createRevision.CompareTo(compare.CreateRevision),
            CompareTarget.Mod => modRevision.CompareTo(compare.ModRevision),
            CompareTarget.Lease => lease.CompareTo(compare.Lease),
            CompareTarget.Value => KeyBytes.Compare(value, compare.Value),
            _ => 0,
        };
        return compare.Result switch
        {
            CompareResult.Equal => order == 0,
            CompareResult.NotEqual => order != 0,
            CompareResult.Greater => order > 0,
            CompareResult.Less => order < 0,
            _ => true,
        };
    }
}
