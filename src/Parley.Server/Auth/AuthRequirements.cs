namespace Parley.Server.Auth;

/// <summary>
/// The one table that says what each gRPC method needs while auth is enabled, by full method path. A method that is
/// not listed gets <see cref="AuthRequirement.Token"/>: a token, if sent, must be valid, and the caller it names is
/// in <see cref="AuthGate.Caller"/> for the service to check keys with (<see cref="Grpc.NodeGateway.RequireRead"/>)
/// or to send with its write (<see cref="Grpc.NodeGateway.WriteAsync(Parley.Mvcc.WriteCommand, global::Grpc.Core.ServerCallContext)"/>),
/// where the state machine checks it when applying. A new admin-only method adds one line here.
/// </summary>
internal static class AuthRequirements
{
    private static readonly Dictionary<string, AuthRequirement> Methods = new(StringComparer.Ordinal)
    {
        ["/etcdserverpb.Auth/Authenticate"] = AuthRequirement.None,
        ["/etcdserverpb.Maintenance/Status"] = AuthRequirement.None,
        ["/etcdserverpb.Cluster/MemberList"] = AuthRequirement.None,
        ["/grpc.health.v1.Health/Check"] = AuthRequirement.None,
        ["/grpc.health.v1.Health/Watch"] = AuthRequirement.None,

        ["/etcdserverpb.Maintenance/Alarm"] = AuthRequirement.Admin,
        ["/etcdserverpb.Maintenance/Defragment"] = AuthRequirement.Admin,
        ["/etcdserverpb.Maintenance/Hash"] = AuthRequirement.Admin,
        ["/etcdserverpb.Maintenance/HashKV"] = AuthRequirement.Admin,
        ["/etcdserverpb.Maintenance/Snapshot"] = AuthRequirement.Admin,
        ["/etcdserverpb.Maintenance/MoveLeader"] = AuthRequirement.Admin,
        ["/etcdserverpb.Cluster/MemberAdd"] = AuthRequirement.Admin,
        ["/etcdserverpb.Cluster/MemberRemove"] = AuthRequirement.Admin,
        ["/etcdserverpb.Cluster/MemberUpdate"] = AuthRequirement.Admin,
        ["/etcdserverpb.Cluster/MemberPromote"] = AuthRequirement.Admin,
        // Auth management needs root too, but that is checked when applied (etcd's authApplierV3), so the
        // decision sits at the same place in the log as the change it guards.
    };

    public static AuthRequirement For(string method) => Methods.GetValueOrDefault(method, AuthRequirement.Token);
}
