namespace Parley.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>
    /// Lease.LeaseGrant. ID 0 takes the next id of a deterministic sequence (positive, unused), so
    /// every member picks the same one; TTL below the minimum is raised to it (compat doc §4.9).
    /// No revision change.
    /// </summary>
    public MvccResult<LeaseGrantResponse> LeaseGrant(LeaseGrantRequest request)
    {
        if (request.TTL > _options.LeaseTtlMaximumSeconds)
        {
            return MvccResult<LeaseGrantResponse>.Failure(MvccError.LeaseTtlTooLarge);
        }
        if (request.ID != 0 && _leases.ContainsKey(request.ID))
        {
            return MvccResult<LeaseGrantResponse>.Failure(MvccError.LeaseExists);
        }
        long id = request.ID != 0 ? request.ID : NextLeaseId();
        long ttl = Math.Max(request.TTL, _options.LeaseTtlMinimumSeconds);
        _leases.Add(id, new LeaseState(id, ttl));
        _storedBytes += LeaseOverheadBytes;
        return MvccResult<LeaseGrantResponse>.Success(new LeaseGrantResponse
        {
            Header = new ResponseHeader(_revision),
            ID = id,
            TTL = ttl,
        });
    }

    /// <summary>
    /// Lease.LeaseRevoke, and how an expiry decided by the leader is applied: deletes every attached
    /// key, in key order, in one new revision (none when no key is attached).
    /// </summary>
    public MvccResult<LeaseRevokeResponse> LeaseRevoke(LeaseRevokeRequest request)
    {
        if (!_leases.TryGetValue(request.ID, out LeaseState? lease))
        {
            return MvccResult<LeaseRevokeResponse>.Failure(MvccError.LeaseNotFound);
        }
        foreach (KeyRecord record in lease.SortedKeys())
        {
            WriteTombstone(record);
        }
        Invariant.Check(lease.Keys.Count == 0, "revoke detaches every key");
        _leases.Remove(request.ID);
        _storedBytes -= LeaseOverheadBytes;
        FinishWrite();
        return MvccResult<LeaseRevokeResponse>.Success(new LeaseRevokeResponse { Header = new ResponseHeader(_revision) });
    }

    /// <summary>A lease's id, granted TTL and attached keys in key order; LeaseNotFound when absent.</summary>
    public MvccResult<LeaseInfo> Lease(long id)
    {
        if (!_leases.TryGetValue(id, out LeaseState? lease))
        {
            return MvccResult<LeaseInfo>.Failure(MvccError.LeaseNotFound);
        }
        KeyRecord[] records = lease.SortedKeys();
        var keys = new byte[records.Length][];
        for (int index = 0; index < records.Length; index++)
        {
            keys[index] = records[index].Key;
        }
        return MvccResult<LeaseInfo>.Success(new LeaseInfo { ID = lease.Id, TTL = lease.TtlSeconds, RemainingTTL = lease.RemainingTtlSeconds, Keys = keys });
    }

    /// <summary>
    /// Records the remaining TTLs the leader measured (etcd's lease checkpoint): leases that no longer exist are
    /// skipped, values are clamped to [0, TTL]; 0 clears a checkpoint (a renewal restored the full TTL). No revision
    /// change.
    /// </summary>
    public MvccResult<LeaseCheckpointResponse> LeaseCheckpoint(LeaseCheckpointRequest request)
    {
        foreach (LeaseCheckpoint checkpoint in request.Checkpoints)
        {
            if (_leases.TryGetValue(checkpoint.ID, out LeaseState? lease))
            {
                lease.RemainingTtlSeconds = Math.Clamp(checkpoint.RemainingTtlSeconds, 0, lease.TtlSeconds);
            }
        }
        return MvccResult<LeaseCheckpointResponse>.Success(new LeaseCheckpointResponse { Header = new ResponseHeader(_revision) });
    }

    /// <summary>A lease's granted TTL and checkpointed remaining TTL (0 = none), without listing its keys.</summary>
    public bool TryGetLeaseTtl(long id, out long ttlSeconds, out long remainingTtlSeconds)
    {
        if (!_leases.TryGetValue(id, out LeaseState? lease))
        {
            ttlSeconds = 0;
            remainingTtlSeconds = 0;
            return false;
        }
        ttlSeconds = lease.TtlSeconds;
        remainingTtlSeconds = lease.RemainingTtlSeconds;
        return true;
    }

    /// <summary>Lease.LeaseLeases: every lease id, ascending.</summary>
    public IReadOnlyList<long> LeaseIds()
    {
        var ids = new long[_leases.Count];
        _leases.Keys.CopyTo(ids, 0);
        Array.Sort(ids);
        return ids;
    }

    private long NextLeaseId()
    {
        while (true)
        {
            _leaseIdSequence++;
            // SplitMix64 spreads a counter into unrelated-looking ids (like etcd's generated ones);
            // clearing the sign bit keeps them positive, which lock recipes format as hex.
            ulong mixed = _leaseIdSequence * 0x9E3779B97F4A7C15UL;
            mixed = (mixed ^ (mixed >> 30)) * 0xBF58476D1CE4E5B9UL;
            mixed = (mixed ^ (mixed >> 27)) * 0x94D049BB133111EBUL;
            mixed ^= mixed >> 31;
            long id = (long)(mixed & long.MaxValue);
            if (id != 0 && !_leases.ContainsKey(id))
            {
                return id;
            }
        }
    }
}
