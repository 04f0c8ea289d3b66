namespace Parley.Mvcc;

public sealed partial class AuthStore
{
    private (MvccError, AuthResponse?) RoleAdd(AuthState state, AuthRequest request)
    {
        if (request.Name.Length == 0)
        {
            return (MvccError.AuthRoleEmpty, null);
        }
        if (state.Role(request.Name) is not null)
        {
            return (MvccError.AuthRoleAlreadyExists, null);
        }
        var roles = new Dictionary<string, AuthRole>(state.RolesByName, StringComparer.Ordinal)
        {
            [request.Name] = new AuthRole(request.Name, []),
        };
        Commit(state, state.UsersByName, roles);
        return (MvccError.None, Done);
    }

    private static (MvccError, AuthResponse?) RoleGet(AuthState state, AuthRequest request)
    {
        if (request.Name == AuthState.RootRole)
        {
            // etcd shows the root role as read-write on the whole keyspace.
            return (MvccError.None, new AuthResponse { Permissions = [new AuthPermission(AuthPermissionType.ReadWrite, [], [0])] });
        }
        return state.Role(request.Name) is { } role
            ? (MvccError.None, new AuthResponse { Permissions = role.Permissions })
            : (MvccError.AuthRoleNotFound, null);
    }

    private (MvccError, AuthResponse?) RoleDelete(AuthState state, AuthRequest request)
    {
        if (state.Enabled && request.Name == AuthState.RootRole)
        {
            return (MvccError.AuthInvalidManagement, null);
        }
        if (state.Role(request.Name) is null)
        {
            return (MvccError.AuthRoleNotFound, null);
        }
        var roles = new Dictionary<string, AuthRole>(state.RolesByName, StringComparer.Ordinal);
        roles.Remove(request.Name);
        // The role leaves every user that had it (a role added later under the same name is not inherited).
        var users = new Dictionary<string, AuthUser>(state.UsersByName.Count, StringComparer.Ordinal);
        foreach ((string name, AuthUser user) in state.UsersByName)
        {
            int index = user.IndexOfRole(request.Name);
            if (index < 0)
            {
                users[name] = user;
                continue;
            }
            var remaining = new List<string>(user.Roles);
            remaining.RemoveAt(index);
            users[name] = new AuthUser(user.Name, user.PasswordHash, user.NoPassword, remaining);
        }
        Commit(state, users, roles);
        return (MvccError.None, Done);
    }

    private (MvccError, AuthResponse?) RoleGrantPermission(AuthState state, AuthRequest request)
    {
        if (state.Role(request.Name) is not { } role)
        {
            return (MvccError.AuthRoleNotFound, null);
        }
        var permissions = new List<AuthPermission>(role.Permissions.Count + 1);
        var granted = new AuthPermission(request.PermissionType, request.Key, request.RangeEnd);
        bool replaced = false;
        foreach (AuthPermission permission in role.Permissions)
        {
            // The same key and range again changes the permission's type.
            if (!replaced && permission.SameRange(request.Key, request.RangeEnd))
            {
                permissions.Add(granted);
                replaced = true;
            }
            else
            {
                permissions.Add(permission);
            }
        }
        if (!replaced)
        {
            permissions.Add(granted);
            permissions.Sort(static (left, right) =>
            {
                int byKey = KeyBytes.Compare(left.Key, right.Key);
                return byKey != 0 ? byKey : KeyBytes.Compare(left.RangeEnd, right.RangeEnd);
            });
        }
        ReplaceRole(state, new AuthRole(role.Name, permissions));
        return (MvccError.None, Done);
    }

    private (MvccError, AuthResponse?) RoleRevokePermission(AuthState state, AuthRequest request)
    {
        if (state.Role(request.Name) is not { } role)
        {
            return (MvccError.AuthRoleNotFound, null);
        }
        var permissions = new List<AuthPermission>(role.Permissions.Count);
        foreach (AuthPermission permission in role.Permissions)
        {
            if (!permission.SameRange(request.Key, request.RangeEnd))
            {
                permissions.Add(permission);
            }
        }
        if (permissions.Count == role.Permissions.Count)
        {
            return (MvccError.AuthPermissionNotGranted, null);
        }
        ReplaceRole(state, new AuthRole(role.Name, permissions));
        return (MvccError.None, Done);
    }

    private void ReplaceRole(AuthState state, AuthRole role)
    {
        var roles = new Dictionary<string, AuthRole>(state.RolesByName, StringComparer.Ordinal) { [role.Name] = role };
        Commit(state, state.UsersByName, roles);
    }
}
