namespace Parley.Mvcc;

/// <summary>
/// The replicated auth state at one moment: immutable, so the loop thread can publish it and request threads can
/// check tokens and permissions against it without locks. <see cref="AuthStore"/> replaces it on every change.
/// The permission rules are etcd 3.4's (auth/store.go): checks pass while auth is disabled; no user → "user name is
/// empty"; a request checked at an older auth revision → "revision of auth store is old"; the root role may do
/// everything; otherwise the union of the user's roles' permissions must cover the key or the whole range.
/// </summary>
public sealed class AuthState
{
    public const string RootUser = "root";
    public const string RootRole = "root";

    public static readonly AuthState Empty = new(false, 1, 0, new Dictionary<string, AuthUser>(StringComparer.Ordinal), new Dictionary<string, AuthRole>(StringComparer.Ordinal));

    internal AuthState(bool enabled, long revision, long tokenSequence, Dictionary<string, AuthUser> users, Dictionary<string, AuthRole> roles)
    {
        Invariant.Check(revision >= 1, "the auth revision starts at 1");
        Enabled = enabled;
        Revision = revision;
        TokenSequence = tokenSequence;
        UsersByName = users;
        RolesByName = roles;
    }

    public bool Enabled { get; }

    /// <summary>etcd's auth revision: 1 on a new store, +1 on every change of users, roles or permissions and on disable.</summary>
    public long Revision { get; }

    /// <summary>How many Authenticate calls were applied; the suffix of the latest simple token.</summary>
    public long TokenSequence { get; }

    internal Dictionary<string, AuthUser> UsersByName { get; }

    internal Dictionary<string, AuthRole> RolesByName { get; }

    public int UserCount => UsersByName.Count;

    public int RoleCount => RolesByName.Count;

    public AuthUser? User(string name) => UsersByName.GetValueOrDefault(name);

    public AuthRole? Role(string name) => RolesByName.GetValueOrDefault(name);

    public string[] UserNames() => SortedKeys(UsersByName);

    public string[] RoleNames() => SortedKeys(RolesByName);

    /// <summary>IsAdminPermitted: auth management, alarms, defragment, hashes, snapshots and member changes need root.</summary>
    public MvccError CheckAdmin(string? user)
    {
        if (!Enabled)
        {
            return MvccError.None;
        }
        if (string.IsNullOrEmpty(user))
        {
            return MvccError.AuthUserEmpty;
        }
        AuthUser? found = User(user);
        if (found is null)
        {
            return MvccError.AuthUserNotFound;
        }
        return found.HasRole(RootRole) ? MvccError.None : MvccError.AuthPermissionDenied;
    }

    /// <summary>Read permission on a key (empty <paramref name="rangeEnd"/>) or a range.</summary>
    public MvccError CheckRead(AuthCaller caller, ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd) =>
        CheckKeys(caller, key, rangeEnd, AuthPermissionType.Read);

    /// <summary>Write permission on a key (empty <paramref name="rangeEnd"/>) or a range.</summary>
    public MvccError CheckWrite(AuthCaller caller, ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd) =>
        CheckKeys(caller, key, rangeEnd, AuthPermissionType.Write);

    public MvccError CheckRange(AuthCaller caller, RangeRequest request) => CheckRead(caller, request.Key, request.RangeEnd);

    /// <summary>Put: write on the key, read on it too when the previous value is asked for.</summary>
    public MvccError CheckPut(AuthCaller caller, PutRequest request)
    {
        MvccError error = CheckWrite(caller, request.Key, []);
        if (error == MvccError.None && request.PrevKv)
        {
            error = CheckRead(caller, request.Key, []);
        }
        return error;
    }

    /// <summary>DeleteRange: read on the range when previous values are asked for, then write on it.</summary>
    public MvccError CheckDeleteRange(AuthCaller caller, DeleteRangeRequest request)
    {
        if (request.PrevKv)
        {
            MvccError error = CheckRead(caller, request.Key, request.RangeEnd);
            if (error != MvccError.None)
            {
                return error;
            }
        }
        return CheckWrite(caller, request.Key, request.RangeEnd);
    }

    /// <summary>Txn: read on every compare's key or range, then every op of both branches (nested txns too).</summary>
    public MvccError CheckTxn(AuthCaller caller, TxnRequest request)
    {
        foreach (Compare compare in request.Compare)
        {
            MvccError error = CheckRead(caller, compare.Key, compare.RangeEnd);
            if (error != MvccError.None)
            {
                return error;
            }
        }
        MvccError success = CheckOps(caller, request.Success);
        return success != MvccError.None ? success : CheckOps(caller, request.Failure);
    }

    private MvccError CheckOps(AuthCaller caller, IReadOnlyList<RequestOp> ops)
    {
        foreach (RequestOp op in ops)
        {
            MvccError error = op switch
            {
                { RequestRange: { } range } => CheckRange(caller, range),
                { RequestPut: { } put } => CheckWrite(caller, put.Key, []),
                { RequestDeleteRange: { } delete } => CheckDeleteRange(caller, delete),
                { RequestTxn: { } nested } => CheckTxn(caller, nested),
                _ => MvccError.None,
            };
            if (error != MvccError.None)
            {
                return error;
            }
        }
        return MvccError.None;
    }

    private MvccError CheckKeys(AuthCaller caller, ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd, AuthPermissionType wanted)
    {
        if (!Enabled)
        {
            return MvccError.None;
        }
        if (caller.Revision == 0 || string.IsNullOrEmpty(caller.User))
        {
            return MvccError.AuthUserEmpty;
        }
        if (caller.Revision < Revision)
        {
            return MvccError.AuthOldRevision;
        }
        AuthUser? user = User(caller.User);
        if (user is null)
        {
            return MvccError.AuthPermissionDenied;
        }
        if (user.HasRole(RootRole))
        {
            return MvccError.None;
        }
        return AuthPermissionCoverage.Covers(GrantedIntervals(user, wanted), key, rangeEnd) ? MvccError.None : MvccError.AuthPermissionDenied;
    }

    private List<(byte[] Start, byte[]? End)> GrantedIntervals(AuthUser user, AuthPermissionType wanted)
    {
        var intervals = new List<(byte[] Start, byte[]? End)>();
        foreach (string roleName in user.Roles)
        {
            if (Role(roleName) is not { } role)
            {
                continue;
            }
            foreach (AuthPermission permission in role.Permissions)
            {
                if (permission.Allows(wanted))
                {
                    intervals.Add(AuthPermissionCoverage.Interval(permission.Key, permission.RangeEnd));
                }
            }
        }
        return intervals;
    }

    private static string[] SortedKeys<T>(Dictionary<string, T> map)
    {
        var names = new string[map.Count];
        map.Keys.CopyTo(names, 0);
        Array.Sort(names, StringComparer.Ordinal);
        return names;
    }
}
