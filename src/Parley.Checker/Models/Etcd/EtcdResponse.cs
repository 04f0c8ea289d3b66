namespace Parley.Checker.Models.Etcd;

/// <summary>
/// What the client saw. Every field is optional (null: not recorded, so not checked) except that a
/// completed get always states its <see cref="Value"/> (null: the key was absent).
/// <see cref="IsUnknown"/> marks a request whose outcome the client never learned.
/// </summary>
public sealed record EtcdResponse(
    bool IsUnknown,
    long? Revision = null,
    string? Value = null,
    long? ModRevision = null,
    long? Deleted = null,
    bool? Succeeded = null)
{
    public static EtcdResponse Unknown { get; } = new(IsUnknown: true);
}
