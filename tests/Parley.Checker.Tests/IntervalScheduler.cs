namespace Parley.Checker.Tests;

/// <summary>
/// Places operations on random overlapping intervals around increasing linearization points, keeping each
/// client sequential. Because every interval contains its operation's point and points are in execution
/// order, running the model in point order yields a history that is linearizable by construction.
/// </summary>
internal sealed class IntervalScheduler
{
    private const long PointSpacing = 10;
    private readonly Random _random;
    private readonly long _spreadMax;
    private readonly long[] _clientFreeFrom;
    private readonly int[] _clientIds;
    private int _nextClientId;
    private long _point;

    public IntervalScheduler(Random random, int clientCount, long spreadMax)
    {
        _random = random;
        _spreadMax = spreadMax;
        _clientFreeFrom = new long[clientCount];
        _clientIds = Enumerable.Range(0, clientCount).ToArray();
        _nextClientId = clientCount;
    }

    /// <summary>The next interval; its point is later than every earlier point.</summary>
    public GeneratedInterval Next()
    {
        while (true)
        {
            _point += PointSpacing;
            var free = Enumerable.Range(0, _clientFreeFrom.Length).Where(slot => _clientFreeFrom[slot] <= _point).ToArray();
            if (free.Length == 0)
            {
                continue;
            }

            var slot = free[_random.Next(free.Length)];
            var earliestCall = Math.Max(_clientFreeFrom[slot], _point - _spreadMax);
            var call = _random.NextInt64(earliestCall, _point + 1);
            var returned = _random.NextInt64(_point, _point + _spreadMax + 1);
            _clientFreeFrom[slot] = returned + 1;
            return new GeneratedInterval(_clientIds[slot], call, returned, _point);
        }
    }

    /// <summary>The interval's client never learned the outcome: like Jepsen, it retires and a fresh client id takes its slot.</summary>
    public void RetireClient(int clientId)
    {
        var slot = Array.IndexOf(_clientIds, clientId);
        _clientIds[slot] = _nextClientId++;
        _clientFreeFrom[slot] = _point + 1;
    }
}
