namespace Parley.Simulation;

public sealed partial class ClusterSimulation
{
    private readonly Dictionary<ulong, ClientOperation> _writesByValue = [];

    internal ClientOperation? NewOperation(SimClient client)
    {
        if (!_faultPhase || _operations.Count >= Parameters.OperationsMax)
        {
            return null;
        }
        var key = Random.Next(Parameters.Keys);
        var isRead = Random.NextDouble() < Parameters.ReadFraction;
        var operation = new ClientOperation
        {
            Id = _nextOperationId++,
            ClientId = client.Id,
            Kind = isRead ? OperationKind.Read : OperationKind.Write,
            Key = key,
            Value = isRead ? 0 : _nextValue++,
            InvokeMicros = Events.NowMicros,
            RequiredIndex = isRead ? Checker.RequiredIndexForRead(key) : 0,
        };
        if (!isRead)
        {
            _writesByValue[operation.Value] = operation;
        }
        _operations.Add(operation);
        return operation;
    }

    internal long ClientLatencyMicros() => 100 + Random.NextInt64(1_000);

    internal SimNode? PickTarget(ulong leaderHint)
    {
        if (leaderHint != 0 && FindNode(leaderHint) is { IsRunning: true } hinted)
        {
            return hinted;
        }
        var candidates = _nodes.Where(n => n.IsRunning).ToList();
        return candidates.Count == 0 ? null : candidates[Random.Next(candidates.Count)];
    }

    public void ReplyWritten(ClientOperation write, ulong index) =>
        Reply(write, OperationOutcome.Ok, write.Value, index);

    public void ReplyFailed(ClientOperation operation) => Reply(operation, OperationOutcome.Failed, 0, 0);

    public void ReplyRead(ClientOperation read, ulong value, ulong valueIndex) =>
        Reply(read, OperationOutcome.Ok, value, valueIndex);

    public void ReplyRedirect(ClientOperation operation, ulong leaderHint)
    {
        var client = _clients[operation.ClientId - 1];
        Events.After(ClientLatencyMicros(), () => client.OnRedirect(operation, leaderHint));
    }

    private void Reply(ClientOperation operation, OperationOutcome outcome, ulong value, ulong index)
    {
        var client = _clients[operation.ClientId - 1];
        Events.After(ClientLatencyMicros(), () => client.OnResult(operation, outcome, value, index));
    }

    internal void OnOperationCompleted(ClientOperation operation)
    {
        if (Trace.IsVerbose)
        {
            Trace.Add("client", operation);
        }
        if (operation.Outcome != OperationOutcome.Ok)
        {
            return;
        }
        if (operation.Kind == OperationKind.Write)
        {
            Checker.OnWriteAcknowledged(operation);
            return;
        }
        if (operation.ResultValue != 0 &&
            (!_writesByValue.TryGetValue(operation.ResultValue, out var write) || write.Key != operation.Key ||
             (write.Outcome == OperationOutcome.Ok && write.ResultIndex != operation.ResultIndex)))
        {
            throw new SimulationViolation($"read returned a value never written to its key at that index: {operation}");
        }
        Checker.OnReadCompleted(operation);
    }
}
