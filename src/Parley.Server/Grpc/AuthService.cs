using Google.Protobuf;
using Grpc.Core;
using Parley.Mvcc;
using Parley.Node;
using Parley.Server.Auth;
using AuthPb = Authpb;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Grpc;

/// <summary>
/// etcdserverpb.Auth. Every call goes through Raft, as in etcd 3.4 (gets and lists too, so they are linearizable),
/// and root is checked when it is applied. Passwords are hashed here, on the receiving member, before proposing;
/// Authenticate checks the password here against the published state and proposes only the token's random part
/// with the auth revision it checked at, so a password changed in between is caught when applied.
/// </summary>
internal sealed class AuthService(NodeGateway gateway) : EtcdPb.Auth.AuthBase
{
    private const int AuthenticateAttemptsMax = 3;

    public override async Task<EtcdPb.AuthEnableResponse> AuthEnable(EtcdPb.AuthEnableRequest request, ServerCallContext context) =>
        new() { Header = await ApplyAsync(new AuthRequest { Operation = AuthOperation.Enable }, context).ConfigureAwait(false) };

    public override async Task<EtcdPb.AuthDisableResponse> AuthDisable(EtcdPb.AuthDisableRequest request, ServerCallContext context) =>
        new() { Header = await ApplyAsync(new AuthRequest { Operation = AuthOperation.Disable }, context).ConfigureAwait(false) };

    public override async Task<EtcdPb.AuthenticateResponse> Authenticate(EtcdPb.AuthenticateRequest request, ServerCallContext context)
    {
        for (var attempt = 1; ; attempt++)
        {
            var state = gateway.Auth.State;
            if (!state.Enabled)
            {
                AuthGate.ThrowIfFailed(MvccError.AuthNotEnabled);
            }
            var user = state.User(request.Name);
            if (user is null || user.NoPassword || !PasswordHasher.Verify(request.Password, user.PasswordHash))
            {
                AuthGate.ThrowIfFailed(MvccError.AuthFailed);
            }
            var authenticate = new AuthRequest
            {
                Operation = AuthOperation.Authenticate,
                Name = request.Name,
                TokenPrefix = SimpleTokenStore.NewPrefix(),
                AuthRevision = state.Revision,
            };
            var (response, term, error) = await TryApplyAsync(authenticate, context).ConfigureAwait(false);
            if (error == MvccError.AuthOldRevision && attempt < AuthenticateAttemptsMax)
            {
                continue; // users changed between the check and the apply: check again against the newer state
            }
            AuthGate.ThrowIfFailed(error);
            return new EtcdPb.AuthenticateResponse { Header = gateway.Header(response!.Header.Revision, term), Token = response.Token };
        }
    }

    public override async Task<EtcdPb.AuthUserAddResponse> UserAdd(EtcdPb.AuthUserAddRequest request, ServerCallContext context)
    {
        var noPassword = request.Options?.NoPassword ?? false;
        var add = new AuthRequest
        {
            Operation = AuthOperation.UserAdd,
            Name = request.Name,
            NoPassword = noPassword,
            PasswordHash = noPassword || request.Name.Length == 0 ? "" : PasswordHasher.Hash(request.Password),
        };
        return new() { Header = await ApplyAsync(add, context).ConfigureAwait(false) };
    }

    public override async Task<EtcdPb.AuthUserGetResponse> UserGet(EtcdPb.AuthUserGetRequest request, ServerCallContext context)
    {
        var (header, response) = await ApplyWithResponseAsync(new AuthRequest { Operation = AuthOperation.UserGet, Name = request.Name }, context).ConfigureAwait(false);
        var proto = new EtcdPb.AuthUserGetResponse { Header = header };
        proto.Roles.Add(response.Names);
        return proto;
    }

    public override async Task<EtcdPb.AuthUserListResponse> UserList(EtcdPb.AuthUserListRequest request, ServerCallContext context)
    {
        var (header, response) = await ApplyWithResponseAsync(new AuthRequest { Operation = AuthOperation.UserList }, context).ConfigureAwait(false);
        var proto = new EtcdPb.AuthUserListResponse { Header = header };
        proto.Users.Add(response.Names);
        return proto;
    }

    public override async Task<EtcdPb.AuthUserDeleteResponse> UserDelete(EtcdPb.AuthUserDeleteRequest request, ServerCallContext context) =>
        new() { Header = await ApplyAsync(new AuthRequest { Operation = AuthOperation.UserDelete, Name = request.Name }, context).ConfigureAwait(false) };

    public override async Task<EtcdPb.AuthUserChangePasswordResponse> UserChangePassword(EtcdPb.AuthUserChangePasswordRequest request, ServerCallContext context)
    {
        var change = new AuthRequest { Operation = AuthOperation.UserChangePassword, Name = request.Name, PasswordHash = PasswordHasher.Hash(request.Password) };
        return new() { Header = await ApplyAsync(change, context).ConfigureAwait(false) };
    }

    public override async Task<EtcdPb.AuthUserGrantRoleResponse> UserGrantRole(EtcdPb.AuthUserGrantRoleRequest request, ServerCallContext context) =>
        new() { Header = await ApplyAsync(new AuthRequest { Operation = AuthOperation.UserGrantRole, Name = request.User, Role = request.Role }, context).ConfigureAwait(false) };

    public override async Task<EtcdPb.AuthUserRevokeRoleResponse> UserRevokeRole(EtcdPb.AuthUserRevokeRoleRequest request, ServerCallContext context) =>
        new() { Header = await ApplyAsync(new AuthRequest { Operation = AuthOperation.UserRevokeRole, Name = request.Name, Role = request.Role }, context).ConfigureAwait(false) };

    public override async Task<EtcdPb.AuthRoleAddResponse> RoleAdd(EtcdPb.AuthRoleAddRequest request, ServerCallContext context) =>
        new() { Header = await ApplyAsync(new AuthRequest { Operation = AuthOperation.RoleAdd, Name = request.Name }, context).ConfigureAwait(false) };

    public override async Task<EtcdPb.AuthRoleGetResponse> RoleGet(EtcdPb.AuthRoleGetRequest request, ServerCallContext context)
    {
        var (header, response) = await ApplyWithResponseAsync(new AuthRequest { Operation = AuthOperation.RoleGet, Name = request.Role }, context).ConfigureAwait(false);
        var proto = new EtcdPb.AuthRoleGetResponse { Header = header };
        foreach (var permission in response.Permissions)
        {
            proto.Perm.Add(new AuthPb.Permission
            {
                PermType = (AuthPb.Permission.Types.Type)permission.Type,
                Key = ByteString.CopyFrom(permission.Key),
                RangeEnd = ByteString.CopyFrom(permission.RangeEnd),
            });
        }
        return proto;
    }

    public override async Task<EtcdPb.AuthRoleListResponse> RoleList(EtcdPb.AuthRoleListRequest request, ServerCallContext context)
    {
        var (header, response) = await ApplyWithResponseAsync(new AuthRequest { Operation = AuthOperation.RoleList }, context).ConfigureAwait(false);
        var proto = new EtcdPb.AuthRoleListResponse { Header = header };
        proto.Roles.Add(response.Names);
        return proto;
    }

    public override async Task<EtcdPb.AuthRoleDeleteResponse> RoleDelete(EtcdPb.AuthRoleDeleteRequest request, ServerCallContext context) =>
        new() { Header = await ApplyAsync(new AuthRequest { Operation = AuthOperation.RoleDelete, Name = request.Role }, context).ConfigureAwait(false) };

    public override async Task<EtcdPb.AuthRoleGrantPermissionResponse> RoleGrantPermission(EtcdPb.AuthRoleGrantPermissionRequest request, ServerCallContext context)
    {
        var permission = request.Perm ?? new AuthPb.Permission();
        var grant = new AuthRequest
        {
            Operation = AuthOperation.RoleGrantPermission,
            Name = request.Name,
            PermissionType = (AuthPermissionType)permission.PermType,
            Key = permission.Key.ToByteArray(),
            RangeEnd = permission.RangeEnd.ToByteArray(),
        };
        if (!Enum.IsDefined(grant.PermissionType))
        {
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.InvalidArgument, "etcdserver: invalid permission type"));
        }
        return new() { Header = await ApplyAsync(grant, context).ConfigureAwait(false) };
    }

    public override async Task<EtcdPb.AuthRoleRevokePermissionResponse> RoleRevokePermission(EtcdPb.AuthRoleRevokePermissionRequest request, ServerCallContext context)
    {
        var revoke = new AuthRequest
        {
            Operation = AuthOperation.RoleRevokePermission,
            Name = request.Role,
            Key = request.Key.ToByteArray(),
            RangeEnd = request.RangeEnd.ToByteArray(),
        };
        return new() { Header = await ApplyAsync(revoke, context).ConfigureAwait(false) };
    }

    private async Task<EtcdPb.ResponseHeader> ApplyAsync(AuthRequest request, ServerCallContext context) =>
        (await ApplyWithResponseAsync(request, context).ConfigureAwait(false)).Header;

    private async Task<(EtcdPb.ResponseHeader Header, AuthResponse Response)> ApplyWithResponseAsync(AuthRequest request, ServerCallContext context)
    {
        var (response, term, error) = await TryApplyAsync(request, context).ConfigureAwait(false);
        AuthGate.ThrowIfFailed(error);
        return (gateway.Header(response!.Header.Revision, term), response);
    }

    private async Task<(AuthResponse? Response, ulong Term, MvccError Error)> TryApplyAsync(AuthRequest request, ServerCallContext context)
    {
        gateway.RequireLeaderIfAsked(context);
        var result = await gateway.WriteAsync(WriteCommand.Auth(request), context).ConfigureAwait(false);
        if (result.Error != NodeError.None)
        {
            throw NodeGateway.Failure(result.Error);
        }
        return (result.Outcome!.Response as AuthResponse, result.RaftTerm, result.Outcome.Error);
    }
}
