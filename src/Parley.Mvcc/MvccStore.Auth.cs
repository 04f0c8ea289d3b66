namespace Parley.Mvcc;

public sealed partial class MvccStore
{
    private readonly AuthStore _auth = new();

    /// <summary>Users, roles and permissions (etcd keeps them in the same backend; HashKV does not cover them).</summary>
    public AuthStore Auth => _auth;

    /// <summary>
    /// etcd's authApplierV3: with auth enabled, a write is checked when applied, against the state at its place in
    /// the log, with the caller carried in the command. Keys need the caller's permissions (and a caller not older
    /// than the last auth change); auth management needs root; Authenticate, Compaction and LeaseGrant need nothing.
    /// </summary>
    private MvccError Authorize(WriteCommand command)
    {
        AuthState state = _auth.State;
        if (!state.Enabled || command.Kind is WriteCommandKind.LeaseExpire or WriteCommandKind.LeaseCheckpoint)
        {
            return MvccError.None;
        }
        AuthCaller caller = command.Caller;
        return command.Request switch
        {
            PutRequest put => CheckPut(state, caller, put),
            DeleteRangeRequest delete => state.CheckDeleteRange(caller, delete),
            TxnRequest txn => state.CheckTxn(caller, txn),
            LeaseRevokeRequest revoke => CheckLeaseKeys(state, caller, revoke.ID),
            AuthRequest { Operation: AuthOperation.Authenticate } => MvccError.None,
            AuthRequest => state.CheckAdmin(caller.User),
            _ => MvccError.None,
        };
    }

    // No lambda here: a closure capturing state and caller would be allocated on every Apply, auth enabled or not.
    private MvccError CheckPut(AuthState state, AuthCaller caller, PutRequest put)
    {
        MvccError error = state.CheckPut(caller, put);
        return error != MvccError.None ? error : CheckLeaseKeys(state, caller, put.Lease);
    }

    /// <summary>A lease may only be revoked, or given to another key, by a caller who may write every key it holds.</summary>
    private MvccError CheckLeaseKeys(AuthState state, AuthCaller caller, long leaseId)
    {
        if (leaseId == 0 || !_leases.TryGetValue(leaseId, out LeaseState? lease))
        {
            return MvccError.None;
        }
        foreach (KeyRecord record in lease.Keys)
        {
            MvccError error = state.CheckWrite(caller, record.Key, []);
            if (error != MvccError.None)
            {
                return error;
            }
        }
        return MvccError.None;
    }
}
