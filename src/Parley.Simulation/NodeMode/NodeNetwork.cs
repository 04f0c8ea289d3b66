using Parley.Raft;

namespace Parley.Simulation.NodeMode;

/// <summary>
/// The network between simulated members (Raft messages and forwarded proposals alike): each delivery may be
/// dropped, duplicated or delayed (different delays reorder), directed links can be cut, and half of what a member
/// sends is still in its buffers for a while, so a crash of the sender loses it. The same rules as <see cref="SimNetwork"/>.
/// </summary>
public sealed class NodeNetwork
{
    private readonly EventQueue _events;
    private readonly Random _random;
    private readonly NodeSimulationParameters _parameters;
    private readonly HashSet<(ulong From, ulong To)> _cut = [];
    private readonly Func<ulong, SimMember?> _lookup;

    public NodeNetwork(EventQueue events, Random random, NodeSimulationParameters parameters, Func<ulong, SimMember?> lookup)
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

    public void Send(Message message) => Transmit(message.From, message.To, member => member.Receive(message));

    public void Forward(ulong from, ulong to, IReadOnlyList<byte[]> proposals) =>
        Transmit(from, to, member => member.ReceiveForwarded(proposals));

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

    private void Transmit(ulong from, ulong to, Action<SimMember> deliver)
    {
        MessagesSent++;
        if (Faulty && _random.NextDouble() < _parameters.DropProbability)
        {
            return;
        }
        var copies = Faulty && _random.NextDouble() < _parameters.DuplicateProbability ? 2 : 1;
        var sender = _lookup(from);
        var senderIncarnation = sender?.Incarnation ?? 0;
        var buffered = _random.Next(2) == 0;
        for (var i = 0; i < copies; i++)
        {
            var delay = _parameters.NetworkLatencyMinMicros +
                        (long)(_random.NextDouble() * (_parameters.NetworkLatencyMaxMicros - _parameters.NetworkLatencyMinMicros));
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
