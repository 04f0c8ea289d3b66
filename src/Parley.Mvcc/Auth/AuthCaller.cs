namespace Parley.Mvcc;

/// <summary>
/// Who sent a request, as etcd's AuthInfo: the user a valid token names and the auth revision the receiving member
/// had when it resolved the token. <see cref="None"/> (no token) fails every check while auth is enabled.
/// </summary>
public readonly record struct AuthCaller(string User, long Revision)
{
    public static readonly AuthCaller None = new("", 0);

    public bool IsNone => Revision == 0 || string.IsNullOrEmpty(User);
}
