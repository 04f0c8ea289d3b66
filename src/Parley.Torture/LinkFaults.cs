namespace Parley.Torture;

/// <summary>
/// The network faults between members: blocked directions (partitions, counted so that overlapping partitions heal
/// independently), a delay with jitter, and a loss rate. In proxy mode the proxies apply them to each peer frame
/// (<see cref="Decide"/>); in netns mode <see cref="NetnsNetwork"/> turns every change into nftables rules and a
/// delay line (<see cref="Changed"/>, <see cref="State"/>). Thread-safe: the nemesis changes it while the proxies
/// read it.
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

    /// <summary>Raised after every change (outside the lock); a handler reads <see cref="State"/> for the whole picture.</summary>
    public event Action? Changed;

    public long FramesDropped => Interlocked.Read(ref _framesDropped);

    public long FramesForwarded => Interlocked.Read(ref _framesForwarded);

    /// <summary>Everything in force now.</summary>
    public LinkFaultState State
    {
        get
        {
            lock (_gate)
            {
                return new LinkFaultState([.. _blockedCounts.Keys.Order()], _delayMs, _jitterMs, _lossRate);
            }
        }
    }

    /// <summary>Stops frames from <paramref name="from"/> to <paramref name="to"/> (one direction).</summary>
    public void Block(int from, int to) => Block([(from, to)]);

    public void Unblock(int from, int to) => Unblock([(from, to)]);

    /// <summary>Blocks several directions at once (one change: a partition takes effect as a whole).</summary>
    public void Block(IEnumerable<(int From, int To)> links)
    {
        lock (_gate)
        {
            foreach (var link in links)
            {
                _blockedCounts[link] = _blockedCounts.GetValueOrDefault(link) + 1;
            }
        }
        Changed?.Invoke();
    }

    public void Unblock(IEnumerable<(int From, int To)> links)
    {
        lock (_gate)
        {
            foreach (var link in links)
            {
                var count = _blockedCounts.GetValueOrDefault(link);
                if (count <= 1)
                {
                    _blockedCounts.Remove(link);
                }
                else
                {
                    _blockedCounts[link] = count - 1;
                }
            }
        }
        Changed?.Invoke();
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
        Changed?.Invoke();
    }

    public void SetLossRate(double lossRate)
    {
        lock (_gate)
        {
            _lossRate = lossRate;
        }
        Changed?.Invoke();
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
        Changed?.Invoke();
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

/// <summary>The network faults in force: blocked directions (member slots, from → to), delay and jitter, loss rate (0..1).</summary>
public sealed record LinkFaultState(IReadOnlyList<(int From, int To)> Blocked, int DelayMs, int JitterMs, double LossRate)
{
    public static readonly LinkFaultState None = new([], 0, 0, 0);

    /// <summary>The loss rate as whole percent of packets (what an nftables <c>numgen random mod 100</c> rule compares).</summary>
    public int LossPercent => (int)Math.Round(LossRate * 100, MidpointRounding.AwayFromZero);
}
