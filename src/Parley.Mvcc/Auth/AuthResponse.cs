namespace Parley.Mvcc;

/// <summary>
/// The result of an applied <see cref="AuthRequest"/>: the header revision (the keyspace's, as etcd reports it),
/// the token (Authenticate), names (UserGet: the user's roles; UserList: users; RoleList: roles) and permissions
/// (RoleGet).
/// </summary>
public sealed class AuthResponse
{
    public ResponseHeader Header { get; init; }

    public AuthOperation Operation { get; init; }

    public string Token { get; init; } = "";

    /// <summary>Authenticate: the user the token belongs to; UserDelete/UserChangePassword: the user whose tokens end.</summary>
    public string User { get; init; } = "";

    public IReadOnlyList<string> Names { get; init; } = [];

    public IReadOnlyList<AuthPermission> Permissions { get; init; } = [];
}
