using System.Buffers;

namespace Parley.Mvcc;

/// <summary>
/// One etcdserverpb.Auth call as it travels through Raft. Which fields matter depends on <see cref="Operation"/>:
/// <see cref="Name"/> is the user (UserAdd, UserGet, UserDelete, UserChangePassword, UserGrantRole, UserRevokeRole,
/// Authenticate) or the role (RoleAdd, RoleGet, RoleDelete, RoleGrantPermission, RoleRevokePermission);
/// <see cref="Role"/> is the role granted or revoked. Passwords never travel: the receiving member hashes them
/// (or checks them, for Authenticate) before proposing, so applying stays cheap and deterministic.
/// </summary>
public sealed record AuthRequest
{
    private const byte FormatVersion = 1;

    public AuthOperation Operation { get; init; }

    public string Name { get; init; } = "";

    public string Role { get; init; } = "";

    public string PasswordHash { get; init; } = "";

    public bool NoPassword { get; init; }

    public AuthPermissionType PermissionType { get; init; }

    public byte[] Key { get; init; } = [];

    public byte[] RangeEnd { get; init; } = [];

    /// <summary>Authenticate: the random part of the simple token; the applied entry appends ".sequence".</summary>
    public string TokenPrefix { get; init; } = "";

    /// <summary>Authenticate: the auth revision at which the receiving member checked the password.</summary>
    public long AuthRevision { get; init; }

    public byte[] Encode()
    {
        var output = new ArrayBufferWriter<byte>(64);
        var writer = new SnapshotWriter(output);
        writer.WriteByte(FormatVersion);
        writer.WriteByte((byte)Operation);
        writer.WriteString(Name);
        writer.WriteString(Role);
        writer.WriteString(PasswordHash);
        writer.WriteBoolean(NoPassword);
        writer.WriteByte((byte)PermissionType);
        writer.WriteBytes(Key);
        writer.WriteBytes(RangeEnd);
        writer.WriteString(TokenPrefix);
        writer.WriteSigned(AuthRevision);
        writer.Flush();
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Decodes <see cref="Encode"/>'s bytes; throws <see cref="FormatException"/> on anything malformed.</summary>
    public static AuthRequest Decode(ReadOnlySpan<byte> data)
    {
        try
        {
            var reader = new SnapshotReader(data);
            SnapshotReader.Require(reader.ReadByte() == FormatVersion, "unknown auth request format");
            var operation = (AuthOperation)reader.ReadByte();
            SnapshotReader.Require(Enum.IsDefined(operation), "unknown auth operation");
            var request = new AuthRequest
            {
                Operation = operation,
                Name = reader.ReadString(),
                Role = reader.ReadString(),
                PasswordHash = reader.ReadString(),
                NoPassword = reader.ReadBoolean(),
                PermissionType = (AuthPermissionType)reader.ReadByte(),
                Key = reader.ReadBytes(),
                RangeEnd = reader.ReadBytes(),
                TokenPrefix = reader.ReadString(),
                AuthRevision = reader.ReadSigned(),
            };
            SnapshotReader.Require(Enum.IsDefined(request.PermissionType), "unknown permission type");
            SnapshotReader.Require(reader.AtEnd, "trailing bytes after the auth request");
            return request;
        }
        catch (InvalidDataException exception)
        {
            throw new FormatException(exception.Message, exception);
        }
    }
}
