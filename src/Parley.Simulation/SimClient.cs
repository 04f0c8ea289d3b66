namespace Parley.Simulation;

/// <summary>
/// A client issuing one operation at a time to some member, following leader hints, giving up after a timeout
/// (a write whose fate it never learned is recorded as unknown).
/// </summary>
public sealed class SimClient
{
    private const int AttemptsMax = 8;

    private readonly ClusterSimulation _simulation;
    private ClientOperation? _current;
    private ulong _leaderHint;

    public SimClient(ClusterSimulation simulation, int id)
    {
        _simulation = simulation;
        Id = id;
    }

    public int Id { get; }

    public bool IsBusy => _current is not null;

    public void StartNext()
    {
        var operation = _simulation.NewOperation(this);
        if (operation is null)
        {
            return;
        }
        _current = operation;
        Send(operation);
        _simulation.Events.After(_simulation.Parameters.ClientTimeoutMicros, () =>
        {
            if (_current == operation)
            {
                Complete(operation, operation.Kind == OperationKind.Write ? OperationOutcome.Unknown : OperationOutcome.Failed);
            }
        });
    }

    private void Send(ClientOperation operation)
    {
        operation.Attempts++;
        var target = _simulation.PickTarget(_leaderHint);
        if (target is null)
        {
            Retry(operation, 0);
            return;
        }
        _simulation.Events.After(_simulation.ClientLatencyMicros(), () =>
        {
            if (operation.Kind == OperationKind.Write)
            {
                target.HandleWrite(operation);
            }
            else
            {
                target.HandleRead(operation);
            }
        });
    }

    public void OnRedirect(ClientOperation operation, ulong leaderHint)
    {
        if (_current != operation)
        {
            return;
        }
        Retry(operation, leaderHint);
    }

    private void Retry(ClientOperation operation, ulong leaderHint)
    {
        _leaderHint = leaderHint;
        if (operation.Attempts >= AttemptsMax)
        {
            // Never proposed anywhere: a definite failure.
            Complete(operation, OperationOutcome.Failed);
            return;
        }
        _simulation.Events.After(5_000 + _simulation.Random.NextInt64(20_000), () =>
        {
            if (_current == operation)
            {
                Send(operation);
            }
        });
    }

    public void OnResult(ClientOperation operation, OperationOutcome outcome, ulong value, ulong index)
    {
        if (_current != operation)
        {
            return; // already timed out
        }
        operation.ResultValue = value;
        operation.ResultIndex = index;
        Complete(operation, outcome);
    }

    private void Complete(ClientOperation operation, OperationOutcome outcome)
    {
        operation.Outcome = outcome;
        operation.CompleteMicros = _simulation.Events.NowMicros;
        _current = null;
        _simulation.OnOperationCompleted(operation);
        _simulation.Events.After(_simulation.Random.NextInt64(2_000), StartNext);
    }
}
