namespace Parley.Mvcc;

/// <summary>Which etcdserverpb.Auth call an <see cref="AuthRequest"/> carries through Raft (numbers are on the wire).</summary>
public enum AuthOperation : byte
{
    Enable = 1,
    Disable = 2,
    Authenticate = 3,
    UserAdd = 4,
    UserGet = 5,
    UserList = 6,
    UserDelete = 7,
    UserChangePassword = 8,
    UserGrantRole = 9,
    UserRevokeRole = 10,
    RoleAdd = 11,
    RoleGet = 12,
    RoleList = 13,
    RoleDelete = 14,
    RoleGrantPermission = 15,
    RoleRevokePermission = 16,
}
