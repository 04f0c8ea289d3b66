namespace Parley.Mvcc;

/// <summary>
/// etcd's request checks that run before a request is proposed (v3rpc/key.go): the server can call
/// these to reject early, and the store runs them again on apply so that it never depends on them.
/// </summary>
public static class RequestValidator
{
    public static MvccError ValidateRange(RangeRequest request) =>
        request.Key.Length == 0 ? MvccError.KeyNotProvided : MvccError.None;

    public static MvccError ValidatePut(PutRequest request)
    {
        if (request.Key.Length == 0)
        {
            return MvccError.KeyNotProvided;
        }
        if (request.IgnoreValue && request.Value.Length != 0)
        {
            return MvccError.ValueProvided;
        }
        if (request.IgnoreLease && request.Lease != 0)
        {
            return MvccError.LeaseProvided;
        }
        return MvccError.None;
    }

    public static MvccError ValidateDeleteRange(DeleteRangeRequest request) =>
        request.Key.Length == 0 ? MvccError.KeyNotProvided : MvccError.None;

    /// <summary>
    /// The operation-count and per-op checks first, then the duplicate-key rule per branch, in the
    /// order etcd runs them (so a request breaking both rules gets etcd's error).
    /// </summary>
    public static MvccError ValidateTxn(TxnRequest request, int operationsMax)
    {
        MvccError error = CheckTxn(request, operationsMax);
        if (error != MvccError.None)
        {
            return error;
        }
        error = CheckIntervals(request.Success, out _, out _);
        if (error != MvccError.None)
        {
            return error;
        }
        return CheckIntervals(request.Failure, out _, out _);
    }

    private static MvccError CheckTxn(TxnRequest request, int operationsMax)
    {
        int operations = Math.Max(request.Compare.Count, Math.Max(request.Success.Count, request.Failure.Count));
        if (operations > operationsMax)
        {
            return MvccError.TooManyOperations;
        }
        foreach (Compare compare in request.Compare)
        {
            if (compare.Key.Length == 0)
            {
                return MvccError.KeyNotProvided;
            }
        }
        // Nested txns get what is left of the budget, as in etcd's checkTxnRequest.
        MvccError error = CheckOps(request.Success, operationsMax - operations);
        return error != MvccError.None ? error : CheckOps(request.Failure, operationsMax - operations);
    }

    private static MvccError CheckOps(IReadOnlyList<RequestOp> ops, int operationsMax)
    {
        foreach (RequestOp op in ops)
        {
            MvccError error = op switch
            {
                { RequestRange: { } range } => ValidateRange(range),
                { RequestPut: { } put } => ValidatePut(put),
                { RequestDeleteRange: { } delete } => ValidateDeleteRange(delete),
                { RequestTxn: { } txn } => CheckTxn(txn, operationsMax),
                _ => MvccError.KeyNotFound,
            };
            if (error != MvccError.None)
            {
                return error;
            }
        }
        return MvccError.None;
    }

    /// <summary>
    /// etcd's checkIntervals: no two puts of one key and no put inside a delete's interval in one
    /// branch, looking into nested txns, where the then and else branches of one nested txn may put
    /// the same key (only one of them runs).
    /// </summary>
    private static MvccError CheckIntervals(IReadOnlyList<RequestOp> ops, out HashSet<byte[]> puts, out List<KeyInterval> deletes)
    {
        puts = new HashSet<byte[]>(ByteArrayContentComparer.Instance);
        deletes = [];
        foreach (RequestOp op in ops)
        {
            if (op.RequestDeleteRange is { } delete)
            {
                deletes.Add(KeyInterval.ForDelete(delete));
            }
        }
        foreach (RequestOp op in ops)
        {
            if (op.RequestTxn is not { } nested)
            {
                continue;
            }
            MvccError error = CheckIntervals(nested.Success, out HashSet<byte[]> putsThen, out List<KeyInterval> deletesThen);
            if (error != MvccError.None)
            {
                return error;
            }
            error = CheckIntervals(nested.Failure, out HashSet<byte[]> putsElse, out List<KeyInterval> deletesElse);
            if (error != MvccError.None)
            {
                return error;
            }
            foreach (byte[] key in putsThen)
            {
                if (puts.Contains(key) || Covered(deletes, key))
                {
                    return MvccError.DuplicateKey;
                }
                puts.Add(key);
            }
            foreach (byte[] key in putsElse)
            {
                if ((puts.Contains(key) && !putsThen.Contains(key)) || Covered(deletes, key))
                {
                    return MvccError.DuplicateKey;
                }
                puts.Add(key);
            }
            deletes.AddRange(deletesThen);
            deletes.AddRange(deletesElse);
        }
        foreach (RequestOp op in ops)
        {
            if (op.RequestPut is not { } put)
            {
                continue;
            }
            if (!puts.Add(put.Key) || Covered(deletes, put.Key))
            {
                return MvccError.DuplicateKey;
            }
        }
        return MvccError.None;
    }

    private static bool Covered(List<KeyInterval> deletes, byte[] key)
    {
        foreach (KeyInterval interval in deletes)
        {
            if (interval.Contains(key))
            {
                return true;
            }
        }
        return false;
    }
}
