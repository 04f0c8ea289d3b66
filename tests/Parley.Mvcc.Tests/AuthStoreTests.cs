using static Parley.Mvcc.Tests.Kit;

namespace Parley.Mvcc.Tests;

/// <summary>etcd 3.4's auth rules, applied as replicated commands through <see cref="MvccStore.Apply"/>.</summary>
public class AuthStoreTests
{
    private static readonly AuthCaller Root = new("root", long.MaxValue);

    private static WriteOutcome Auth(MvccStore store, AuthRequest request, AuthCaller? caller = null)
    {
        WriteCommand command = WriteCommand.Auth(request);
        return store.Apply(caller is { } who ? command.WithCaller(who) : command);
    }

    private static AuthResponse AuthOk(MvccStore store, AuthRequest request, AuthCaller? caller = null)
    {
        WriteOutcome outcome = Auth(store, request, caller);
        Assert.True(outcome.IsSuccess, outcome.ErrorMessage);
        return (AuthResponse)outcome.Response!;
    }

    private static void AuthFails(MvccStore store, AuthRequest request, string message, AuthCaller? caller = null) =>
        Assert.Equal(message, Auth(store, request, caller).ErrorMessage);

    private static AuthRequest UserAdd(string name) => new() { Operation = AuthOperation.UserAdd, Name = name, PasswordHash = "hash-" + name };

    private static AuthRequest RoleAdd(string name) => new() { Operation = AuthOperation.RoleAdd, Name = name };

    private static AuthRequest Grant(string user, string role) => new() { Operation = AuthOperation.UserGrantRole, Name = user, Role = role };

    private static AuthRequest Permit(string role, AuthPermissionType type, string key, string rangeEnd = "") =>
        new() { Operation = AuthOperation.RoleGrantPermission, Name = role, PermissionType = type, Key = B(key), RangeEnd = B(rangeEnd) };

    private static readonly AuthRequest Enable = new() { Operation = AuthOperation.Enable };

    /// <summary>root/root, alice with role "app" (read-write on "app/" prefix, read on "cfg"), auth enabled.</summary>
    private static MvccStore Enabled()
    {
        var store = new MvccStore();
        AuthOk(store, UserAdd("root"));
        AuthOk(store, RoleAdd("root"));
        AuthOk(store, Grant("root", "root"));
        AuthOk(store, UserAdd("alice"));
        AuthOk(store, RoleAdd("app"));
        AuthOk(store, Grant("alice", "app"));
        AuthOk(store, Permit("app", AuthPermissionType.ReadWrite, "app/", "app0"));
        AuthOk(store, Permit("app", AuthPermissionType.Read, "cfg"));
        AuthOk(store, Enable);
        return store;
    }

    private static AuthCaller Alice(MvccStore store) => new("alice", store.Auth.State.Revision);

    [Fact]
    public void Enable_NeedsRootUser_ThenRootRole()
    {
        var store = new MvccStore();
        AuthFails(store, Enable, "etcdserver: root user does not exist");
        AuthOk(store, UserAdd("root"));
        AuthFails(store, Enable, "etcdserver: root user does not have root role");
        AuthOk(store, Grant("root", "root")); // the root role may be granted before it exists, as in etcd
        AuthOk(store, Enable);
        Assert.True(store.Auth.State.Enabled);
    }

    [Fact]
    public void Disable_WhenDisabled_Succeeds_AndNeedsRootWhenEnabled()
    {
        MvccStore store = Enabled();
        var disable = new AuthRequest { Operation = AuthOperation.Disable };
        AuthFails(store, disable, "etcdserver: user name is empty");
        AuthFails(store, disable, "etcdserver: permission denied", Alice(store));
        AuthFails(store, disable, "etcdserver: user name not found", new AuthCaller("nobody", 99));
        AuthOk(store, disable, Root);
        Assert.False(store.Auth.State.Enabled);
        AuthOk(store, disable);
    }

    [Fact]
    public void UserAdd_RejectsEmptyAndDuplicateNames()
    {
        var store = new MvccStore();
        AuthFails(store, UserAdd(""), "etcdserver: user name is empty");
        AuthOk(store, UserAdd("bob"));
        AuthFails(store, UserAdd("bob"), "etcdserver: user name already exists");
        AuthFails(store, RoleAdd(""), "etcdserver: role name is empty");
        AuthOk(store, RoleAdd("r"));
        AuthFails(store, RoleAdd("r"), "etcdserver: role name already exists");
    }

    [Fact]
    public void UserGrantRole_NeedsExistingUserAndRole_AndKeepsRolesSorted()
    {
        var store = new MvccStore();
        AuthFails(store, Grant("bob", "r"), "etcdserver: user name not found");
        AuthOk(store, UserAdd("bob"));
        AuthFails(store, Grant("bob", "r"), "etcdserver: role name not found");
        AuthOk(store, RoleAdd("zeta"));
        AuthOk(store, RoleAdd("alpha"));
        AuthOk(store, Grant("bob", "zeta"));
        AuthOk(store, Grant("bob", "alpha"));
        long revision = store.Auth.State.Revision;
        AuthOk(store, Grant("bob", "alpha")); // granting again changes nothing
        Assert.Equal(revision, store.Auth.State.Revision);
        Assert.Equal(["alpha", "zeta"], AuthOk(store, new AuthRequest { Operation = AuthOperation.UserGet, Name = "bob" }).Names);
    }

    [Fact]
    public void UserRevokeRole_OfRoleNotGranted_Fails()
    {
        var store = new MvccStore();
        AuthOk(store, UserAdd("bob"));
        AuthOk(store, RoleAdd("r"));
        var revoke = new AuthRequest { Operation = AuthOperation.UserRevokeRole, Name = "bob", Role = "r" };
        AuthFails(store, revoke, "etcdserver: role is not granted to the user");
        AuthOk(store, Grant("bob", "r"));
        AuthOk(store, revoke);
        Assert.Empty(store.Auth.State.User("bob")!.Roles);
    }

    [Fact]
    public void RootUserAndRole_CannotBeRemoved_WhileAuthIsEnabled()
    {
        MvccStore store = Enabled();
        AuthFails(store, new AuthRequest { Operation = AuthOperation.UserDelete, Name = "root" }, "etcdserver: invalid auth management", Root);
        AuthFails(store, new AuthRequest { Operation = AuthOperation.UserRevokeRole, Name = "root", Role = "root" }, "etcdserver: invalid auth management", Root);
        AuthFails(store, new AuthRequest { Operation = AuthOperation.RoleDelete, Name = "root" }, "etcdserver: invalid auth management", Root);
    }

    [Fact]
    public void RoleDelete_RemovesTheRoleFromEveryUser()
    {
        MvccStore store = Enabled();
        AuthOk(store, new AuthRequest { Operation = AuthOperation.RoleDelete, Name = "app" }, Root);
        Assert.Empty(store.Auth.State.User("alice")!.Roles);
        AuthOk(store, RoleAdd("app"), Root);
        Assert.Empty(store.Auth.State.User("alice")!.Roles); // a new role of the same name is not inherited
        AuthFails(store, new AuthRequest { Operation = AuthOperation.RoleDelete, Name = "gone" }, "etcdserver: role name not found", Root);
    }

    [Fact]
    public void RoleGrantPermission_SameRangeAgain_ChangesItsType_AndListsByKey()
    {
        var store = new MvccStore();
        AuthOk(store, RoleAdd("r"));
        AuthOk(store, Permit("r", AuthPermissionType.Read, "m"));
        AuthOk(store, Permit("r", AuthPermissionType.Write, "a", "b"));
        AuthOk(store, Permit("r", AuthPermissionType.ReadWrite, "m"));
        IReadOnlyList<AuthPermission> permissions = AuthOk(store, new AuthRequest { Operation = AuthOperation.RoleGet, Name = "r" }).Permissions;
        Assert.Equal(["a", "m"], permissions.Select(permission => S(permission.Key)));
        Assert.Equal(AuthPermissionType.ReadWrite, permissions[1].Type);
        AuthFails(store, Permit("none", AuthPermissionType.Read, "k"), "etcdserver: role name not found");
    }

    [Fact]
    public void RoleRevokePermission_NeedsTheExactKeyAndRange()
    {
        var store = new MvccStore();
        AuthOk(store, RoleAdd("r"));
        AuthOk(store, Permit("r", AuthPermissionType.Read, "a", "c"));
        var revoke = new AuthRequest { Operation = AuthOperation.RoleRevokePermission, Name = "r", Key = B("a"), RangeEnd = B("b") };
        AuthFails(store, revoke, "etcdserver: permission is not granted to the role");
        AuthOk(store, revoke with { RangeEnd = B("c") });
        Assert.Empty(store.Auth.State.Role("r")!.Permissions);
    }

    [Fact]
    public void Lists_AreSortedByName()
    {
        var store = new MvccStore();
        foreach (string name in new[] { "carol", "alice", "bob" })
        {
            AuthOk(store, UserAdd(name));
            AuthOk(store, RoleAdd("role-" + name));
        }
        Assert.Equal(["alice", "bob", "carol"], AuthOk(store, new AuthRequest { Operation = AuthOperation.UserList }).Names);
        Assert.Equal(["role-alice", "role-bob", "role-carol"], AuthOk(store, new AuthRequest { Operation = AuthOperation.RoleList }).Names);
    }

    [Fact]
    public void Authenticate_NeedsAuthEnabled_KnownUser_AndCurrentRevision()
    {
        var store = new MvccStore();
        AuthOk(store, UserAdd("root"));
        AuthOk(store, Grant("root", "root"));
        var authenticate = new AuthRequest { Operation = AuthOperation.Authenticate, Name = "root", TokenPrefix = "abc", AuthRevision = store.Auth.State.Revision };
        AuthFails(store, authenticate, "etcdserver: authentication is not enabled");
        AuthOk(store, Enable);
        AuthResponse first = AuthOk(store, authenticate with { AuthRevision = store.Auth.State.Revision });
        Assert.Equal("abc.1", first.Token);
        Assert.Equal("root", first.User);
        Assert.Equal("abc.2", AuthOk(store, authenticate with { AuthRevision = store.Auth.State.Revision }).Token);
        AuthFails(store, authenticate with { AuthRevision = store.Auth.State.Revision - 1 }, "etcdserver: revision of auth store is old");
        AuthFails(store, authenticate with { Name = "nobody" }, "etcdserver: authentication failed, invalid user ID or password");
    }

    [Fact]
    public void NoPasswordUser_CannotAuthenticate()
    {
        MvccStore store = Enabled();
        AuthOk(store, new AuthRequest { Operation = AuthOperation.UserAdd, Name = "svc", NoPassword = true }, Root);
        AuthFails(store, new AuthRequest { Operation = AuthOperation.Authenticate, Name = "svc", AuthRevision = store.Auth.State.Revision },
            "etcdserver: authentication failed, invalid user ID or password");
    }

    [Fact]
    public void AuthManagement_NeedsRoot_WhenEnabled()
    {
        MvccStore store = Enabled();
        AuthFails(store, UserAdd("eve"), "etcdserver: user name is empty");
        AuthFails(store, UserAdd("eve"), "etcdserver: permission denied", Alice(store));
        AuthOk(store, UserAdd("eve"), Root);
    }

    [Fact]
    public void Writes_AreCheckedAgainstTheCallersPermissions()
    {
        MvccStore store = Enabled();
        WriteOutcome Put(string key, AuthCaller caller) =>
            store.Apply(WriteCommand.Put(new PutRequest { Key = B(key), Value = B("v") }).WithCaller(caller));
        Assert.True(Put("app/x", Alice(store)).IsSuccess);
        Assert.Equal("etcdserver: permission denied", Put("cfg", Alice(store)).ErrorMessage); // read only
        Assert.Equal("etcdserver: permission denied", Put("other", Alice(store)).ErrorMessage);
        Assert.Equal("etcdserver: user name is empty", store.Apply(WriteCommand.Put(new PutRequest { Key = B("app/x"), Value = B("v") })).ErrorMessage);
        Assert.True(Put("other", Root).IsSuccess);
        Assert.Null(store.Get("cfg"));
    }

    [Fact]
    public void Write_CheckedAtAnOlderAuthRevision_IsRejected()
    {
        MvccStore store = Enabled();
        AuthCaller stale = Alice(store);
        AuthOk(store, RoleAdd("later"), Root);
        WriteOutcome outcome = store.Apply(WriteCommand.Put(new PutRequest { Key = B("app/x"), Value = B("v") }).WithCaller(stale));
        Assert.Equal("etcdserver: revision of auth store is old", outcome.ErrorMessage);
        Assert.Equal(MvccStatusCode.InvalidArgument, MvccErrors.StatusCode(outcome.Error));
    }

    [Fact]
    public void Txn_NeedsReadOnEveryCompare_AndTheRightPermissionOnEveryOp()
    {
        MvccStore store = Enabled();
        WriteOutcome Txn(TxnRequest txn) => store.Apply(WriteCommand.Txn(txn).WithCaller(Alice(store)));
        Assert.True(Txn(new TxnRequest { Compare = [ValueIs("cfg", "x")], Success = [PutOp("app/a", "1")], Failure = [GetOp("cfg")] }).IsSuccess);
        Assert.Equal("etcdserver: permission denied", Txn(new TxnRequest { Compare = [ValueIs("secret", "x")] }).ErrorMessage);
        Assert.Equal("etcdserver: permission denied", Txn(new TxnRequest { Failure = [PutOp("cfg", "1")] }).ErrorMessage);
        Assert.Equal("etcdserver: permission denied", Txn(new TxnRequest { Success = [DeleteOp("app/", "app1")] }).ErrorMessage);
        Assert.Equal("etcdserver: permission denied", Txn(new TxnRequest { Success = [RequestOp.Txn(new TxnRequest { Success = [PutOp("x", "1")] })] }).ErrorMessage);
        Assert.True(Txn(new TxnRequest { Success = [DeleteOp("app/", "app0")] }).IsSuccess);
    }

    [Fact]
    public void Permissions_CoverKeysPrefixesAndRanges()
    {
        MvccStore store = Enabled();
        AuthOk(store, RoleAdd("more"), Root);
        AuthOk(store, Grant("alice", "more"), Root);
        AuthOk(store, Permit("more", AuthPermissionType.Read, "m", "p"), Root);
        AuthOk(store, Permit("more", AuthPermissionType.Read, "p", "q"), Root);
        AuthOk(store, Permit("more", AuthPermissionType.Read, "z", "\0"), Root);
        AuthState state = store.Auth.State;
        AuthCaller alice = Alice(store);
        Assert.Equal(MvccError.None, state.CheckRead(alice, B("cfg"), []));
        Assert.Equal(MvccError.AuthPermissionDenied, state.CheckRead(alice, B("cfg2"), []));
        Assert.Equal(MvccError.AuthPermissionDenied, state.CheckRead(alice, B("cfg"), B("cfh"))); // a key is not its prefix
        Assert.Equal(MvccError.None, state.CheckRead(alice, B("app/"), B("app0")));
        Assert.Equal(MvccError.None, state.CheckRead(alice, B("app/x"), B("app/y")));
        Assert.Equal(MvccError.AuthPermissionDenied, state.CheckRead(alice, B("app"), B("app0")));
        Assert.Equal(MvccError.None, state.CheckRead(alice, B("m"), B("q"))); // two adjacent ranges together
        Assert.Equal(MvccError.AuthPermissionDenied, state.CheckRead(alice, B("m"), B("r")));
        Assert.Equal(MvccError.None, state.CheckRead(alice, B("zz"), [0])); // from-key inside a from-key grant
        Assert.Equal(MvccError.AuthPermissionDenied, state.CheckRead(alice, B("y"), [0]));
        Assert.Equal(MvccError.AuthPermissionDenied, state.CheckWrite(alice, B("m"), []));
        Assert.Equal(MvccError.None, state.CheckRead(Root, [0], [0]));
    }

    [Fact]
    public void DeleteRange_WithPrevKv_NeedsReadToo()
    {
        MvccStore store = Enabled();
        AuthOk(store, RoleAdd("writer"), Root);
        AuthOk(store, Permit("writer", AuthPermissionType.Write, "w"), Root);
        AuthOk(store, Grant("alice", "writer"), Root);
        AuthState state = store.Auth.State;
        Assert.Equal(MvccError.None, state.CheckDeleteRange(Alice(store), new DeleteRangeRequest { Key = B("w") }));
        Assert.Equal(MvccError.AuthPermissionDenied, state.CheckDeleteRange(Alice(store), new DeleteRangeRequest { Key = B("w"), PrevKv = true }));
        Assert.Equal(MvccError.AuthPermissionDenied, state.CheckPut(Alice(store), new PutRequest { Key = B("w"), PrevKv = true }));
    }

    [Fact]
    public void LeaseRevoke_NeedsWriteOnEveryAttachedKey()
    {
        MvccStore store = Enabled();
        store.Grant(7);
        Assert.True(store.Apply(WriteCommand.Put(new PutRequest { Key = B("root-only"), Value = B("v"), Lease = 7 }).WithCaller(Root)).IsSuccess);
        var revoke = WriteCommand.LeaseRevoke(new LeaseRevokeRequest { ID = 7 });
        Assert.Equal("etcdserver: permission denied", store.Apply(revoke.WithCaller(Alice(store))).ErrorMessage);
        Assert.Equal("etcdserver: permission denied",
            store.Apply(WriteCommand.Put(new PutRequest { Key = B("app/x"), Value = B("v"), Lease = 7 }).WithCaller(Alice(store))).ErrorMessage);
        Assert.True(store.Apply(revoke.WithCaller(Root)).IsSuccess);
    }

    [Fact]
    public void Disabled_ChecksNothing()
    {
        var store = new MvccStore();
        Assert.True(store.Apply(WriteCommand.Put(new PutRequest { Key = B("k"), Value = B("v") })).IsSuccess);
        Assert.Equal(MvccError.None, store.Auth.State.CheckRead(AuthCaller.None, B("k"), []));
        Assert.Equal(MvccError.None, store.Auth.State.CheckAdmin(null));
    }

    [Fact]
    public void Snapshot_CarriesUsersRolesAndTheEnabledFlag_AndHashKVIgnoresThem()
    {
        MvccStore store = Enabled();
        store.Put("k", "v");
        uint hashBefore = Ok(store.HashKV(0)).Hash;
        MvccStore restored = Ok(MvccStore.Restore(store.Snapshot()));
        AuthState state = restored.Auth.State;
        Assert.True(state.Enabled);
        Assert.Equal(store.Auth.State.Revision, state.Revision);
        Assert.Equal(["alice", "root"], state.UserNames());
        Assert.Equal("hash-alice", state.User("alice")!.PasswordHash);
        Assert.Equal(["app", "root"], state.RoleNames());
        Assert.Equal(2, state.Role("app")!.Permissions.Count);
        Assert.Equal(store.Snapshot(), restored.Snapshot());
        var withoutAuth = new MvccStore();
        withoutAuth.Put("k", "v");
        Assert.Equal(hashBefore, Ok(withoutAuth.HashKV(0)).Hash);
    }

    [Fact]
    public void AuthRequest_RoundTripsThroughItsEncoding()
    {
        AuthRequest request = Permit("r", AuthPermissionType.ReadWrite, "a", "\0");
        AuthRequest decoded = AuthRequest.Decode(request.Encode());
        Assert.Equal(request.Operation, decoded.Operation);
        Assert.Equal(request.Name, decoded.Name);
        Assert.Equal(request.Key, decoded.Key);
        Assert.Equal(request.RangeEnd, decoded.RangeEnd);
        Assert.Equal(request.PermissionType, decoded.PermissionType);
        Assert.Throws<FormatException>(() => AuthRequest.Decode(request.Encode().AsSpan(0, 5)));
    }
}
