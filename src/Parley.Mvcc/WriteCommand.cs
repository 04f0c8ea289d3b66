namespace Parley.Mvcc;

/// <summary>
/// A committed write as the node applies it through <see cref="MvccStore.Apply"/>: one request,
/// plus an optional client request id (parley-request-id) for effectively-once application, and the
/// logical time of the entry (leader ticks or log index: any replicated, non-decreasing number)
/// that drives expiry of recorded ids.
/// </summary>
public sealed class WriteCommand
{
    private WriteCommand(WriteCommandKind kind, object request, string? requestId, long logicalTime, AuthCaller caller = default)
    {
        Kind = kind;
        Request = request;
        RequestId = requestId;
        LogicalTime = logicalTime;
        Caller = caller.User is null ? AuthCaller.None : caller;
    }

    public WriteCommandKind Kind { get; }

    /// <summary>The request: a PutRequest, DeleteRangeRequest, TxnRequest, CompactionRequest, LeaseGrantRequest, LeaseRevokeRequest or LeaseCheckpointRequest matching <see cref="Kind"/>.</summary>
    public object Request { get; }

    /// <summary>Null or empty = no effectively-once tracking.</summary>
    public string? RequestId { get; }

    public long LogicalTime { get; }

    /// <summary>Who sent it (etcd's user name and auth revision in the Raft request header); checked when applied.</summary>
    public AuthCaller Caller { get; }

    /// <summary>The same command sent by <paramref name="caller"/>.</summary>
    public WriteCommand WithCaller(AuthCaller caller) => new(Kind, Request, RequestId, LogicalTime, caller);

    public static WriteCommand Put(PutRequest request, string? requestId = null, long logicalTime = 0) =>
        new(WriteCommandKind.Put, request, requestId, logicalTime);

    public static WriteCommand DeleteRange(DeleteRangeRequest request, string? requestId = null, long logicalTime = 0) =>
        new(WriteCommandKind.DeleteRange, request, requestId, logicalTime);

    public static WriteCommand Txn(TxnRequest request, string? requestId = null, long logicalTime = 0) =>
        new(WriteCommandKind.Txn, request, requestId, logicalTime);

    public static WriteCommand Compaction(CompactionRequest request, string? requestId = null, long logicalTime = 0) =>
        new(WriteCommandKind.Compaction, request, requestId, logicalTime);

    public static WriteCommand LeaseGrant(LeaseGrantRequest request, string? requestId = null, long logicalTime = 0) =>
        new(WriteCommandKind.LeaseGrant, request, requestId, logicalTime);

    public static WriteCommand Auth(AuthRequest request, string? requestId = null, long logicalTime = 0) =>
        new(WriteCommandKind.Auth, request, requestId, logicalTime);
    public static WriteCommand LeaseExpire(LeaseRevokeRequest request) =>
        new(WriteCommandKind.LeaseExpire, request, requestId: null, logicalTime: 0);

    public static WriteCommand Alarm(AlarmRequest request) =>
        new(WriteCommandKind.Alarm, request, requestId: null, logicalTime: 0);

    public static WriteCommand LeaseCheckpoint(LeaseCheckpointRequest request) =>
        new(WriteCommandKind.LeaseCheckpoint, request, requestId: null, logicalTime: 0);

    public static WriteCommand LeaseRevoke(LeaseRevokeRequest request, string? requestId = null, long logicalTime = 0) =>
        new(WriteCommandKind.LeaseRevoke, request, requestId, logicalTime);
}
