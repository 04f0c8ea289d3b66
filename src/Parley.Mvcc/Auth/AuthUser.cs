namespace Parley.Mvcc;

/// <summary>
/// authpb.User as Parley keeps it: the password only as the hash the receiving member computed before proposing
/// (an opaque string to the state machine), roles sorted by ordinal (as etcd keeps them).
/// </summary>
public sealed class AuthUser
{
    public AuthUser(string name, string passwordHash, bool noPassword, IReadOnlyList<string> roles)
    {
        Name = name;
        PasswordHash = passwordHash;
        NoPassword = noPassword;
        Roles = roles;
    }

    public string Name { get; }

    /// <summary>Empty when the user was added with no_password.</summary>
    public string PasswordHash { get; }

    public bool NoPassword { get; }

    public IReadOnlyList<string> Roles { get; }

    public bool HasRole(string role) => IndexOfRole(role) >= 0;

    internal int IndexOfRole(string role)
    {
        for (int index = 0; index < Roles.Count; index++)
        {
            if (string.Equals(Roles[index], role, StringComparison.Ordinal))
            {
                return index;
            }
        }
        return -1;
    }
}
