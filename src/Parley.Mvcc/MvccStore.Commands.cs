namespace Parley.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>
    /// Applies a committed write. With a request id already recorded (and not expired), returns the
    /// recorded outcome without applying again, so a client retry after a lost reply is harmless.
    /// A retry is recognised by id alone: the request body is not compared.
    /// </summary>
    public WriteOutcome Apply(WriteCommand command)
    {
        string? requestId = command.RequestId;
        bool tracked = !string.IsNullOrEmpty(requestId);
        if (tracked)
        {
            _recorded.Expire(command.LogicalTime);
            if (_recorded.TryGet(requestId!, out WriteOutcome recorded))
            {
                return recorded.AsReplay();
            }
        }
        MvccError denied = Authorize(command);
        if (denied != MvccError.None)
        {
            return new WriteOutcome(command.Kind, denied, null, isReplay: false);
        }
        if (IsSpaceCapped && AddsData(command))
        {
            return new WriteOutcome(command.Kind, MvccError.NoSpace, null, isReplay: false);
        }
        WriteOutcome outcome = command.Kind switch
        {
            WriteCommandKind.Put => ToOutcome(command.Kind, Put((PutRequest)command.Request)),
            WriteCommandKind.DeleteRange => ToOutcome(command.Kind, DeleteRange((DeleteRangeRequest)command.Request)),
            WriteCommandKind.Txn => ToOutcome(command.Kind, Txn((TxnRequest)command.Request)),
            WriteCommandKind.Compaction => ToOutcome(command.Kind, Compact((CompactionRequest)command.Request)),
            WriteCommandKind.LeaseGrant => ToOutcome(command.Kind, LeaseGrant((LeaseGrantRequest)command.Request)),
            WriteCommandKind.LeaseRevoke or WriteCommandKind.LeaseExpire => ToOutcome(command.Kind, LeaseRevoke((LeaseRevokeRequest)command.Request)),
            WriteCommandKind.Auth => ToOutcome(command.Kind, _auth.Apply((AuthRequest)command.Request, _revision)),
            WriteCommandKind.LeaseCheckpoint => ToOutcome(command.Kind, LeaseCheckpoint((LeaseCheckpointRequest)command.Request)),
            WriteCommandKind.Alarm => ToOutcome(command.Kind, Alarm((AlarmRequest)command.Request)),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.Kind, "unknown write command kind"),
        };
        if (tracked && command.Kind is not (WriteCommandKind.Auth or WriteCommandKind.Alarm)) // auth and alarm calls are not retried by id
        {
            _recorded.Add(new RecordedRequest(requestId!, command.LogicalTime, outcome));
        }
        return outcome;
    }

    private static WriteOutcome ToOutcome<T>(WriteCommandKind kind, MvccResult<T> result)
        where T : class => new(kind, result.Error, result.Value, isReplay: false);
}
