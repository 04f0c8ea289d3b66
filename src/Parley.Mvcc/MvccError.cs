namespace Parley.Mvcc;

/// <summary>
/// Every expected failure of the keyspace. Each maps to etcd 3.4's exact message and gRPC code
/// through <see cref="MvccErrors"/>: clients match on the message text, so it must never drift.
/// </summary>
public enum MvccError : byte
{
    None = 0,
    KeyNotProvided,
    KeyNotFound,
    ValueProvided,
    LeaseProvided,
    TooManyOperations,
    DuplicateKey,
    Compacted,
    FutureRevision,
    LeaseNotFound,
    LeaseExists,
    LeaseTtlTooLarge,
    SnapshotCorrupt,
    NoSpace,
    AuthRootUserNotExist,
    AuthRootRoleNotExist,
    AuthUserAlreadyExists,
    AuthUserEmpty,
    AuthUserNotFound,
    AuthRoleAlreadyExists,
    AuthRoleNotFound,
    AuthRoleEmpty,
    AuthFailed,
    AuthPermissionDenied,
    AuthRoleNotGranted,
    AuthPermissionNotGranted,
    AuthNotEnabled,
    AuthInvalidToken,
    AuthInvalidManagement,
    AuthOldRevision,
}
