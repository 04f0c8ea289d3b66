namespace Parley.Mvcc;

/// <summary>authpb.Role: a name and its key permissions, sorted by key (then range end), as etcd lists them.</summary>
public sealed class AuthRole
{
    public AuthRole(string name, IReadOnlyList<AuthPermission> permissions)
    {
        Name = name;
        Permissions = permissions;
    }

    public string Name { get; }

    public IReadOnlyList<AuthPermission> Permissions { get; }
}
