namespace Parley.Torture;

/// <summary>
/// The network faults between members, as the proxies apply them to each peer frame travelling from one member
/// to another: blocked directions (partitions, counted so that overlapping partitions heal independently), a delay
/// with jitter, and a loss rate. Thread-safe: the nemesis changes it while the proxies read it.
/// </summary>
public sealed class LinkFaults
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(int From, int To), int> _blockedCounts = [];
    private readonly Random _random;
    private int _delayMs;
    private int _jitterMs;
    private double _lossRate;
    private long _framesDropped;
    private long _framesForwarded;

    public LinkFaults(int seed) => _random = new Random(seed);

    public long FramesDropped => Interlocked.Read(ref _framesDropped);

    public long FramesForwarded => Interlocked.Read(ref _framesForwarded);

    /// <summary>Stops frames from <paramref name="from"/> to <paramref name="to"/> (one direction).</summary>
    public void Block(int from, int to)
    {
        lock (_gate)
        {
            _blockedCounts[(from, to)] = _blockedCounts.GetValueOrDefault((from, to)) + 1;
        }
    }

    public void Unblock(int from, int to)
    {
        lock (_gate)
        {
            var count = _blockedCounts.GetValueOrDefault((from, to));
            if (count <= 1)
            {
                _blockedCounts.Remove((from, to));
            }
            else
            {
                _blockedCounts[(from, to)] = count - 1;
            }
        }
    }

    public bool IsBlocked(int from, int to)
    {
        lock (_gate)
        {
            return _blockedCounts.ContainsKey((from, to));
        }
    }

    public void SetDelay(int delayMs, int jitterMs)
    {
        lock (_gate)
        {
            _delayMs = delayMs;
            _jitterMs = jitterMs;
        }
    }

    public void SetLossRate(double lossRate)
    {
        lock (_gate)
        {
            _lossRate = lossRate;
        }
    }

    public void HealAll()
    {
        lock (_gate)
        {
            _blockedCounts.Clear();
            _delayMs = 0;
            _jitterMs = 0;
            _lossRate = 0;
        }
    }

    /// <summary>What happens to the next frame on a link: dropped, or forwarded after a delay (0 = at once).</summary>
    public (bool Drop, int DelayMs) Decide(int from, int to)
    {
        lock (_gate)
        {
            var drop = _blockedCounts.ContainsKey((from, to)) || (_lossRate > 0 && _random.NextDouble() < _lossRate);
            var delay = _delayMs + (_jitterMs > 0 ? _random.Next(_jitterMs + 1) : 0);
            Interlocked.Increment(ref drop ? ref _framesDropped : ref _framesForwarded);
            return (drop, delay);
        }
    }
}
