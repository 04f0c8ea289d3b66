namespace Parley.Mvcc;

/// <summary>etcd 3.4's error strings and codes for <see cref="MvccError"/> (compat doc §5).</summary>
public static class MvccErrors
{
    public const string KeyNotProvidedMessage = "etcdserver: key is not provided";
    public const string KeyNotFoundMessage = "etcdserver: key not found";
    public const string ValueProvidedMessage = "etcdserver: value is provided";
    public const string LeaseProvidedMessage = "etcdserver: lease is provided";
    public const string TooManyOperationsMessage = "etcdserver: too many operations in txn request";
    public const string DuplicateKeyMessage = "etcdserver: duplicate key given in txn request";
    public const string CompactedMessage = "etcdserver: mvcc: required revision has been compacted";
    public const string FutureRevisionMessage = "etcdserver: mvcc: required revision is a future revision";
    public const string LeaseNotFoundMessage = "etcdserver: requested lease not found";
    public const string LeaseExistsMessage = "etcdserver: lease already exists";
    public const string LeaseTtlTooLargeMessage = "etcdserver: too large lease TTL";
    public const string NoSpaceMessage = "etcdserver: mvcc: database space exceeded";

    public const string AuthRootUserNotExistMessage = "etcdserver: root user does not exist";
    public const string AuthRootRoleNotExistMessage = "etcdserver: root user does not have root role";
    public const string AuthUserAlreadyExistsMessage = "etcdserver: user name already exists";
    public const string AuthUserEmptyMessage = "etcdserver: user name is empty";
    public const string AuthUserNotFoundMessage = "etcdserver: user name not found";
    public const string AuthRoleAlreadyExistsMessage = "etcdserver: role name already exists";
    public const string AuthRoleNotFoundMessage = "etcdserver: role name not found";
    public const string AuthRoleEmptyMessage = "etcdserver: role name is empty";
    public const string AuthFailedMessage = "etcdserver: authentication failed, invalid user ID or password";
    public const string AuthPermissionDeniedMessage = "etcdserver: permission denied";
    public const string AuthRoleNotGrantedMessage = "etcdserver: role is not granted to the user";
    public const string AuthPermissionNotGrantedMessage = "etcdserver: permission is not granted to the role";
    public const string AuthNotEnabledMessage = "etcdserver: authentication is not enabled";
    public const string AuthInvalidTokenMessage = "etcdserver: invalid auth token";
    public const string AuthInvalidManagementMessage = "etcdserver: invalid auth management";
    public const string AuthOldRevisionMessage = "etcdserver: revision of auth store is old";

    // Not an etcd error: a snapshot that fails its checksum or structure never reaches a client.
    public const string SnapshotCorruptMessage = "parley: mvcc: snapshot is corrupt";

    public static string Message(MvccError error) => error switch
    {
        MvccError.None => "",
        MvccError.KeyNotProvided => KeyNotProvidedMessage,
        MvccError.KeyNotFound => KeyNotFoundMessage,
        MvccError.ValueProvided => ValueProvidedMessage,
        MvccError.LeaseProvided => LeaseProvidedMessage,
        MvccError.TooManyOperations => TooManyOperationsMessage,
        MvccError.DuplicateKey => DuplicateKeyMessage,
        MvccError.Compacted => CompactedMessage,
        MvccError.FutureRevision => FutureRevisionMessage,
        MvccError.LeaseNotFound => LeaseNotFoundMessage,
        MvccError.LeaseExists => LeaseExistsMessage,
        MvccError.LeaseTtlTooLarge => LeaseTtlTooLargeMessage,
        MvccError.SnapshotCorrupt => SnapshotCorruptMessage,
        MvccError.NoSpace => NoSpaceMessage,
        MvccError.AuthRootUserNotExist => AuthRootUserNotExistMessage,
        MvccError.AuthRootRoleNotExist => AuthRootRoleNotExistMessage,
        MvccError.AuthUserAlreadyExists => AuthUserAlreadyExistsMessage,
        MvccError.AuthUserEmpty => AuthUserEmptyMessage,
        MvccError.AuthUserNotFound => AuthUserNotFoundMessage,
        MvccError.AuthRoleAlreadyExists => AuthRoleAlreadyExistsMessage,
        MvccError.AuthRoleNotFound => AuthRoleNotFoundMessage,
        MvccError.AuthRoleEmpty => AuthRoleEmptyMessage,
        MvccError.AuthFailed => AuthFailedMessage,
        MvccError.AuthPermissionDenied => AuthPermissionDeniedMessage,
        MvccError.AuthRoleNotGranted => AuthRoleNotGrantedMessage,
        MvccError.AuthPermissionNotGranted => AuthPermissionNotGrantedMessage,
        MvccError.AuthNotEnabled => AuthNotEnabledMessage,
        MvccError.AuthInvalidToken => AuthInvalidTokenMessage,
        MvccError.AuthInvalidManagement => AuthInvalidManagementMessage,
        MvccError.AuthOldRevision => AuthOldRevisionMessage,
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, "unknown MvccError"),
    };

    public static MvccStatusCode StatusCode(MvccError error) => error switch
    {
        MvccError.None => MvccStatusCode.Ok,
        MvccError.KeyNotProvided or MvccError.KeyNotFound or MvccError.ValueProvided
            or MvccError.LeaseProvided or MvccError.TooManyOperations or MvccError.DuplicateKey
            => MvccStatusCode.InvalidArgument,
        MvccError.Compacted or MvccError.FutureRevision or MvccError.LeaseTtlTooLarge => MvccStatusCode.OutOfRange,
        MvccError.LeaseNotFound => MvccStatusCode.NotFound,
        MvccError.LeaseExists => MvccStatusCode.FailedPrecondition,
        MvccError.SnapshotCorrupt => MvccStatusCode.DataLoss,
        MvccError.NoSpace => MvccStatusCode.ResourceExhausted,
        MvccError.AuthUserEmpty or MvccError.AuthRoleEmpty or MvccError.AuthFailed
            or MvccError.AuthInvalidManagement or MvccError.AuthOldRevision => MvccStatusCode.InvalidArgument,
        MvccError.AuthRootUserNotExist or MvccError.AuthRootRoleNotExist or MvccError.AuthUserAlreadyExists
            or MvccError.AuthUserNotFound or MvccError.AuthRoleAlreadyExists or MvccError.AuthRoleNotFound
            or MvccError.AuthRoleNotGranted or MvccError.AuthPermissionNotGranted or MvccError.AuthNotEnabled
            => MvccStatusCode.FailedPrecondition,
        MvccError.AuthPermissionDenied => MvccStatusCode.PermissionDenied,
        MvccError.AuthInvalidToken => MvccStatusCode.Unauthenticated,
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, "unknown MvccError"),
    };
}
