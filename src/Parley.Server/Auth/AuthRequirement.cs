namespace Parley.Server.Auth;

/// <summary>What a gRPC method needs from the caller while auth is enabled (see <see cref="AuthRequirements"/>).</summary>
internal enum AuthRequirement
{
    /// <summary>Nothing; a token is not even looked at (Authenticate, Status, MemberList, health).</summary>
    None,

    /// <summary>A token, when sent, must be valid; the caller it names is checked later against keys or at apply.</summary>
    Token,

    /// <summary>A valid token of a user with the root role (etcd's IsAdminPermitted).</summary>
    Admin,
}
