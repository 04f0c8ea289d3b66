namespace Parley.Bench;

/// <summary>The run's total operation count (--total) shared by all clients; unlimited when null.</summary>
internal sealed class OperationBudget(long? total)
{
    private long _taken;

    public bool TryTake() => total is not { } limit || Interlocked.Increment(ref _taken) <= limit;
}
