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
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, "unknown MvccError"),
    };
}
