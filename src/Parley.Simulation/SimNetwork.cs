using Parley.Raft;

namespace Parley.Simulation;

/// <summary>
/// The simulated network between members: each message may be dropped, duplicated or delayed (different delays
/// reorder them), and directed links can be cut to make symmetric, asymmetric, isolated-leader and bridge
/// partitions. A cut link also drops messages already in flight on it.
/// </summary>
public sealed class SimNetwork
{
    private readonly EventQueue _events;
    private readonly Random _random;
    private readonly SimulationParameters _parameters;
    private readonly HashSet<(ulong From, ulong To)> _cut = [];
    private readonly Func<ulong, SimNode?> _lookup;

    public SimNetwork(EventQueue events, Random random, SimulationParameters parameters, Func<ulong, SimNode?> lookup)
    {
        _events = events;
        _random = random;
        _parameters = parameters;
        _lookup = lookup;
    }

    public bool Faulty { get; set; } = true;

    public long MessagesSent { get; private set; }

    public string Describe() => _cut.Count == 0 ? "healed" :
        string.Join(" ", _cut.OrderBy(c => c.From).ThenBy(c => c.To).Select(c => $"{c.From}-x->{c.To}"));

    public void Send(Message message)
    {
        MessagesSent++;
        if (Faulty && _random.NextDouble() < _parameters.DropProbability)
        {
            return;
        }
        var copies = Faulty && _random.NextDouble() < _parameters.DuplicateProbability ? 2 : 1;
        // Half the messages are still in the sender's buffers for a while: a crash of the sender loses those.
        var sender = _lookup(message.From);
        var senderIncarnation = sender?.Incarnation ?? 0;
        var buffered = _random.Next(2) == 0;
        for (var i = 0; i < copies; i++)
        {
            var delay = _parameters.NetworkLatencyMinMicros +
                        (long)(_random.NextDouble() * (_parameters.NetworkLatencyMaxMicros - _parameters.NetworkLatencyMinMicros));
            _events.After(delay, () =>
            {
                if (!buffered || sender is null || sender.Incarnation == senderIncarnation)
                {
                    Deliver(message);
                }
            });
        }
    }

    public bool IsCut(ulong from, ulong to) => _cut.Contains((from, to));

    private void Deliver(Message message)
    {
        if (_cut.Contains((message.From, message.To)))
        {
            return;
        }
        _lookup(message.To)?.Receive(message);
    }

    public void Heal() => _cut.Clear();

    /// <summary>Cuts every link between the two groups, both ways.</summary>
    public void Split(IReadOnlyList<ulong> left, IReadOnlyList<ulong> right)
    {
        foreach (var a in left)
        {
            foreach (var b in right)
            {
                _cut.Add((a, b));
                _cut.Add((b, a));
            }
        }
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
}
