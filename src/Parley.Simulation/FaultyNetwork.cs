namespace Parley.Simulation;

/// <summary>
/// The simulated network between members: each delivery may be dropped, duplicated or delayed (different delays
/// reorder them), and directed links can be cut to make symmetric, asymmetric, isolated-leader and bridge
/// partitions. A cut link also drops deliveries already in flight on it. Half of what a member sends is still in
/// its buffers for a while, so a crash of the sender loses it.
/// </summary>
public class FaultyNetwork<TEndpoint>
    where TEndpoint : class, ISimEndpoint
{
    private readonly EventQueue _events;
    private readonly Random _random;
    private readonly NetworkFaults _faults;
    private readonly HashSet<(ulong From, ulong To)> _cut = [];
    private readonly Func<ulong, TEndpoint?> _lookup;

    public FaultyNetwork(EventQueue events, Random random, NetworkFaults faults, Func<ulong, TEndpoint?> lookup)
    {
        _events = events;
        _random = random;
        _faults = faults;
        _lookup = lookup;
    }

    public bool Faulty { get; set; } = true;

    /// <summary>The endpoint with this id, if any.</summary>
    protected TEndpoint? Lookup(ulong id) => _lookup(id);

    public long MessagesSent { get; private set; }

    public string Describe() => _cut.Count == 0 ? "healed" :
        string.Join(" ", _cut.OrderBy(c => c.From).ThenBy(c => c.To).Select(c => $"{c.From}-x->{c.To}"));

    public bool IsCut(ulong from, ulong to) => _cut.Contains((from, to));

    public void Heal() => _cut.Clear();

    /// <summary>Cuts every link between the two groups, both ways.</summary>
    public void Split(IReadOnlyList<ulong> left, IReadOnlyList<ulong> right)
    {
        CutOneWay(left, right);
        CutOneWay(right, left);
    }

    /// <summary>Cuts only the links from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public void CutOneWay(IReadOnlyList<ulong> from, IReadOnlyList<ulong> to)
    {
        foreach (var a in from)
        {
            foreach (var b in to)
            {
                _cut.Add((a, b));
            }
        }
    }

    /// <summary>Sends one delivery from <paramref name="from"/>; <paramref name="deliver"/> runs at the receiver if
    /// it arrives and the receiver is running.</summary>
    protected void Transmit(ulong from, ulong to, Action<TEndpoint> deliver)
    {
        MessagesSent++;
        if (Faulty && _random.NextDouble() < _faults.DropProbability)
        {
            return;
        }
        var copies = Faulty && _random.NextDouble() < _faults.DuplicateProbability ? 2 : 1;
        var sender = _lookup(from);
        var senderIncarnation = sender?.Incarnation ?? 0;
        var buffered = _random.Next(2) == 0;
        for (var i = 0; i < copies; i++)
        {
            var delay = _faults.LatencyMinMicros + (long)(_random.NextDouble() * (_faults.LatencyMaxMicros - _faults.LatencyMinMicros));
            _events.After(delay, () =>
            {
                if (buffered && sender is not null && sender.Incarnation != senderIncarnation)
                {
                    return; // still in the crashed sender's buffers
                }
                if (_cut.Contains((from, to)) || _lookup(to) is not { IsRunning: true } target)
                {
                    return;
                }
                deliver(target);
            });
        }
    }
}
