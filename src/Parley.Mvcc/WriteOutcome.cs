namespace Parley.Mvcc;

/// <summary>
/// The result of <see cref="MvccStore.Apply"/>: the error, or the response of the command's kind.
/// <see cref="IsReplay"/> says it was recorded by an earlier application of the same request id.
/// </summary>
public sealed class WriteOutcome
{
    public WriteOutcome(WriteCommandKind kind, MvccError error, object? response, bool isReplay)
    {
        Invariant.Check((error == MvccError.None) == (response is not null), "an outcome has a response exactly when it has no error");
        Kind = kind;
        Error = error;
        Response = response;
        IsReplay = isReplay;
    }

    public WriteCommandKind Kind { get; }

    public MvccError Error { get; }

    public bool IsSuccess => Error == MvccError.None;

    public string ErrorMessage => MvccErrors.Message(Error);

    /// <summary>PutResponse, DeleteRangeResponse, TxnResponse, CompactionResponse, LeaseGrantResponse, LeaseRevokeResponse or LeaseCheckpointResponse; null on error.</summary>
    public object? Response { get; }

    public bool IsReplay { get; }

    internal WriteOutcome AsReplay() => new(Kind, Error, Response, isReplay: true);
}
