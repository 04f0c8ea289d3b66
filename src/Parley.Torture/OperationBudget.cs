namespace Parley.Torture;

/// <summary>A shared bound on the number of requests in a run (every load loop is bounded in count and in time).</summary>
internal sealed class OperationBudget(int operationsMax)
{
    private int _taken;

    public bool TryTake() => Interlocked.Increment(ref _taken) <= operationsMax;
}
