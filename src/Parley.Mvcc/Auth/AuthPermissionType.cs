namespace Parley.Mvcc;

/// <summary>authpb.Permission.Type: what a role may do on a key, prefix or range (same numbers as etcd).</summary>
public enum AuthPermissionType : byte
{
    Read = 0,
    Write = 1,
    ReadWrite = 2,
}
