namespace Parley.Mvcc;

/// <summary>
/// etcd 3.4's auth store as replicated state: users, roles, permissions, the enabled flag and the auth revision.
/// Applied on every member in log order through <see cref="MvccStore.Apply"/>; each change replaces the immutable
/// <see cref="State"/>, which the host publishes to request threads. Deterministic: passwords arrive hashed,
/// tokens arrive with their random part, and nothing here reads a clock.
/// </summary>
public sealed partial class AuthStore
{
    public AuthState State { get; private set; } = AuthState.Empty;

    /// <summary>Applies one auth call (its caller was already checked); <paramref name="headerRevision"/> is the keyspace revision.</summary>
    public MvccResult<AuthResponse> Apply(AuthRequest request, long headerRevision)
    {
        AuthState state = State;
        (MvccError error, AuthResponse? response) = request.Operation switch
        {
            AuthOperation.Enable => Enable(state),
            AuthOperation.Disable => Disable(state),
            AuthOperation.Authenticate => Authenticate(state, request),
            AuthOperation.UserAdd => UserAdd(state, request),
            AuthOperation.UserGet => UserGet(state, request),
            AuthOperation.UserList => (MvccError.None, new AuthResponse { Names = state.UserNames() }),
            AuthOperation.UserDelete => UserDelete(state, request),
            AuthOperation.UserChangePassword => UserChangePassword(state, request),
            AuthOperation.UserGrantRole => UserGrantRole(state, request),
            AuthOperation.UserRevokeRole => UserRevokeRole(state, request),
            AuthOperation.RoleAdd => RoleAdd(state, request),
            AuthOperation.RoleGet => RoleGet(state, request),
            AuthOperation.RoleList => (MvccError.None, new AuthResponse { Names = state.RoleNames() }),
            AuthOperation.RoleDelete => RoleDelete(state, request),
            AuthOperation.RoleGrantPermission => RoleGrantPermission(state, request),
            AuthOperation.RoleRevokePermission => RoleRevokePermission(state, request),
            _ => throw new ArgumentOutOfRangeException(nameof(request), request.Operation, "unknown auth operation"),
        };
        if (error != MvccError.None)
        {
            return MvccResult<AuthResponse>.Failure(error);
        }
        return MvccResult<AuthResponse>.Success(new AuthResponse
        {
            Header = new ResponseHeader(headerRevision),
            Operation = request.Operation,
            Token = response!.Token,
            User = response.User,
            Names = response.Names,
            Permissions = response.Permissions,
        });
    }

    private static readonly AuthResponse Done = new();

    private (MvccError, AuthResponse?) Enable(AuthState state)
    {
        if (state.Enabled)
        {
            return (MvccError.None, Done);
        }
        AuthUser? root = state.User(AuthState.RootUser);
        if (root is null)
        {
            return (MvccError.AuthRootUserNotExist, null);
        }
        if (!root.HasRole(AuthState.RootRole))
        {
            return (MvccError.AuthRootRoleNotExist, null);
        }
        State = new AuthState(true, state.Revision, state.TokenSequence, state.UsersByName, state.RolesByName);
        return (MvccError.None, Done);
    }

    private (MvccError, AuthResponse?) Disable(AuthState state)
    {
        if (state.Enabled)
        {
            State = new AuthState(false, state.Revision + 1, state.TokenSequence, state.UsersByName, state.RolesByName);
        }
        return (MvccError.None, Done);
    }

    private (MvccError, AuthResponse?) Authenticate(AuthState state, AuthRequest request)
    {
        if (!state.Enabled)
        {
            return (MvccError.AuthNotEnabled, null);
        }
        AuthUser? user = state.User(request.Name);
        if (user is null || user.NoPassword)
        {
            return (MvccError.AuthFailed, null);
        }
        if (request.AuthRevision != state.Revision)
        {
            // The password was checked against an older state (changed password, deleted user): check again.
            return (MvccError.AuthOldRevision, null);
        }
        long sequence = state.TokenSequence + 1;
        State = new AuthState(state.Enabled, state.Revision, sequence, state.UsersByName, state.RolesByName);
        return (MvccError.None, new AuthResponse { Token = request.TokenPrefix + "." + sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), User = user.Name });
    }

    private (MvccError, AuthResponse?) UserAdd(AuthState state, AuthRequest request)
    {
        if (request.Name.Length == 0)
        {
            return (MvccError.AuthUserEmpty, null);
        }
        if (state.User(request.Name) is not null)
        {
            return (MvccError.AuthUserAlreadyExists, null);
        }
        var users = new Dictionary<string, AuthUser>(state.UsersByName, StringComparer.Ordinal)
        {
            [request.Name] = new AuthUser(request.Name, request.NoPassword ? "" : request.PasswordHash, request.NoPassword, []),
        };
        Commit(state, users, state.RolesByName);
        return (MvccError.None, Done);
    }

    private static (MvccError, AuthResponse?) UserGet(AuthState state, AuthRequest request) =>
        state.User(request.Name) is { } user
            ? (MvccError.None, new AuthResponse { Names = user.Roles })
            : (MvccError.AuthUserNotFound, null);

    private (MvccError, AuthResponse?) UserDelete(AuthState state, AuthRequest request)
    {
        if (state.Enabled && request.Name == AuthState.RootUser)
        {
            return (MvccError.AuthInvalidManagement, null);
        }
        if (state.User(request.Name) is null)
        {
            return (MvccError.AuthUserNotFound, null);
        }
        var users = new Dictionary<string, AuthUser>(state.UsersByName, StringComparer.Ordinal);
        users.Remove(request.Name);
        Commit(state, users, state.RolesByName);
        return (MvccError.None, new AuthResponse { User = request.Name });
    }

    private (MvccError, AuthResponse?) UserChangePassword(AuthState state, AuthRequest request)
    {
        if (state.User(request.Name) is not { } user)
        {
            return (MvccError.AuthUserNotFound, null);
        }
        var users = new Dictionary<string, AuthUser>(state.UsersByName, StringComparer.Ordinal)
        {
            [user.Name] = new AuthUser(user.Name, request.PasswordHash, false, user.Roles),
        };
        Commit(state, users, state.RolesByName);
        return (MvccError.None, new AuthResponse { User = user.Name });
    }

    private (MvccError, AuthResponse?) UserGrantRole(AuthState state, AuthRequest request)
    {
        if (state.User(request.Name) is not { } user)
        {
            return (MvccError.AuthUserNotFound, null);
        }
        // etcd lets the root role be granted before it exists as a role.
        if (request.Role != AuthState.RootRole && state.Role(request.Role) is null)
        {
            return (MvccError.AuthRoleNotFound, null);
        }
        if (user.HasRole(request.Role))
        {
            return (MvccError.None, Done); // already granted: no change, no new revision
        }
        var roles = new List<string>(user.Roles) { request.Role };
        roles.Sort(StringComparer.Ordinal);
        var users = new Dictionary<string, AuthUser>(state.UsersByName, StringComparer.Ordinal)
        {
            [user.Name] = new AuthUser(user.Name, user.PasswordHash, user.NoPassword, roles),
        };
        Commit(state, users, state.RolesByName);
        return (MvccError.None, Done);
    }

    private (MvccError, AuthResponse?) UserRevokeRole(AuthState state, AuthRequest request)
    {
        if (state.Enabled && request.Name == AuthState.RootUser && request.Role == AuthState.RootRole)
        {
            return (MvccError.AuthInvalidManagement, null);
        }
        if (state.User(request.Name) is not { } user)
        {
            return (MvccError.AuthUserNotFound, null);
        }
        int index = user.IndexOfRole(request.Role);
        if (index < 0)
        {
            return (MvccError.AuthRoleNotGranted, null);
        }
        var roles = new List<string>(user.Roles);
        roles.RemoveAt(index);
        var users = new Dictionary<string, AuthUser>(state.UsersByName, StringComparer.Ordinal)
        {
            [user.Name] = new AuthUser(user.Name, user.PasswordHash, user.NoPassword, roles),
        };
        Commit(state, users, state.RolesByName);
        return (MvccError.None, Done);
    }

    private void Commit(AuthState state, Dictionary<string, AuthUser> users, Dictionary<string, AuthRole> roles) =>
        State = new AuthState(state.Enabled, state.Revision + 1, state.TokenSequence, users, roles);
}
