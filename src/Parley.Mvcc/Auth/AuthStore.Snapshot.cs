namespace Parley.Mvcc;

public sealed partial class AuthStore
{
    /// <summary>The auth section of the store's snapshot: flag, revisions, users and roles in name order.</summary>
    internal void WriteSnapshot(SnapshotWriter writer)
    {
        AuthState state = State;
        writer.WriteBoolean(state.Enabled);
        writer.WriteSigned(state.Revision);
        writer.WriteSigned(state.TokenSequence);
        string[] users = state.UserNames();
        writer.WriteUnsigned((ulong)users.Length);
        foreach (string name in users)
        {
            AuthUser user = state.UsersByName[name];
            writer.WriteString(user.Name);
            writer.WriteString(user.PasswordHash);
            writer.WriteBoolean(user.NoPassword);
            writer.WriteUnsigned((ulong)user.Roles.Count);
            foreach (string role in user.Roles)
            {
                writer.WriteString(role);
            }
        }
        string[] roles = state.RoleNames();
        writer.WriteUnsigned((ulong)roles.Length);
        foreach (string name in roles)
        {
            AuthRole role = state.RolesByName[name];
            writer.WriteString(role.Name);
            writer.WriteUnsigned((ulong)role.Permissions.Count);
            foreach (AuthPermission permission in role.Permissions)
            {
                writer.WriteByte((byte)permission.Type);
                writer.WriteBytes(permission.Key);
                writer.WriteBytes(permission.RangeEnd);
            }
        }
    }

    internal void ReadSnapshot(ref SnapshotReader reader)
    {
        bool enabled = reader.ReadBoolean();
        long revision = reader.ReadSigned();
        long tokenSequence = reader.ReadSigned();
        SnapshotReader.Require(revision >= 1 && tokenSequence >= 0, "auth revision out of range");
        var users = new Dictionary<string, AuthUser>(StringComparer.Ordinal);
        int userCount = reader.ReadCount();
        for (int index = 0; index < userCount; index++)
        {
            string name = reader.ReadString();
            string hash = reader.ReadString();
            bool noPassword = reader.ReadBoolean();
            var roles = new string[reader.ReadCount()];
            for (int role = 0; role < roles.Length; role++)
            {
                roles[role] = reader.ReadString();
            }
            SnapshotReader.Require(name.Length > 0 && users.TryAdd(name, new AuthUser(name, hash, noPassword, roles)), "auth user empty or repeated");
        }
        var rolesByName = new Dictionary<string, AuthRole>(StringComparer.Ordinal);
        int roleCount = reader.ReadCount();
        for (int index = 0; index < roleCount; index++)
        {
            string name = reader.ReadString();
            var permissions = new AuthPermission[reader.ReadCount()];
            for (int permission = 0; permission < permissions.Length; permission++)
            {
                var type = (AuthPermissionType)reader.ReadByte();
                SnapshotReader.Require(Enum.IsDefined(type), "permission type out of range");
                permissions[permission] = new AuthPermission(type, reader.ReadBytes(), reader.ReadBytes());
            }
            SnapshotReader.Require(name.Length > 0 && rolesByName.TryAdd(name, new AuthRole(name, permissions)), "auth role empty or repeated");
        }
        SnapshotReader.Require(!enabled || (users.TryGetValue(AuthState.RootUser, out AuthUser? root) && root.HasRole(AuthState.RootRole)), "auth enabled without root");
        State = new AuthState(enabled, revision, tokenSequence, users, rolesByName);
    }
}
