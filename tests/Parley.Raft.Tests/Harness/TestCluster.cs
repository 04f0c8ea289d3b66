using Parley.Raft;

namespace Parley.Raft.Tests.Harness;

/// <summary>
/// A "network" of members in one thread: messages wait in a queue until a test delivers them, links can be cut,
/// and every Ready is handled in the order <see cref="Ready"/> documents (send, persist, send after persist,
/// apply, advance). Nothing happens unless the test says so.
/// </summary>
internal sealed class TestCluster
{
    private readonly SortedDictionary<ulong, TestNode> _nodes = [];
    private readonly HashSet<(ulong From, ulong To)> _cutLinks = [];
    private readonly List<Message> _queue = [];

    /// <param name="voters">Members 1..voters start as voters.</param>
    /// <param name="learners">Members voters+1..voters+learners start as learners.</param>
    /// <param name="configure">Adjusts each member's options (the default is pre-vote and check-quorum on).</param>
    /// <param name="bootstrap">Start from <see cref="Bootstrap"/>'s log of config entries instead of a
    /// configuration in the storage's (empty) snapshot.</param>
    public TestCluster(int voters, int learners = 0, Func<RaftOptions, RaftOptions>? configure = null, bool bootstrap = false)
    {
        Configure = configure ?? (o => o);
        var voterIds = Enumerable.Range(1, voters).Select(i => (ulong)i).ToArray();
        var learnerIds = Enumerable.Range(voters + 1, learners).Select(i => (ulong)i).ToArray();
        foreach (var id in voterIds.Concat(learnerIds))
        {
            MemoryStorage storage;
            if (bootstrap)
            {
                Assert.Empty(learnerIds);
                storage = new MemoryStorage();
                Bootstrap.InitialMember(storage, voterIds);
            }
            else
            {
                storage = StorageWith(new ConfigState(voterIds, learnerIds));
            }
            Add(id, storage);
        }
        // Bootstrap members apply their config entries in their first Ready.
        Stabilize();
    }

    public Func<RaftOptions, RaftOptions> Configure { get; }

    public TestNode this[ulong id] => _nodes[id];

    public IEnumerable<TestNode> Nodes => _nodes.Values;

    /// <summary>Messages sent and not yet delivered or dropped.</summary>
    public IReadOnlyList<Message> InFlight => _queue;

    /// <summary>Every message that left a member (before any drop), in order.</summary>
    public List<Message> Sent { get; } = [];

    /// <summary>Messages matching this are dropped when sent (in addition to cut links).</summary>
    public Func<Message, bool>? DropWhen { get; set; }

    /// <summary>Messages dropped (by <see cref="DropWhen"/>, or a link cut when sent or when delivered), in order.</summary>
    public List<Message> Dropped { get; } = [];

    /// <summary>Called for every message dropped (at send or delivery).</summary>
    public Action<Message>? OnDropped { get; set; }

    /// <summary>Called for every Ready handled, before it is persisted.</summary>
    public Action<TestNode, Ready>? OnReady { get; set; }

    public static MemoryStorage StorageWith(ConfigState config, ulong snapshotTerm = 0)
    {
        var storage = new MemoryStorage();
        storage.ApplySnapshot(new Snapshot(new SnapshotMetadata(0, snapshotTerm, config), default));
        return storage;
    }

    /// <summary>A storage whose log has one entry per element of <paramref name="terms"/> (index 1 onward).</summary>
    public static MemoryStorage StorageWithLog(ConfigState config, ulong currentTerm, params ulong[] terms)
    {
        var storage = StorageWith(config);
        var entries = new List<Entry>();
        for (var i = 0; i < terms.Length; i++)
        {
            entries.Add(new Entry(terms[i], (ulong)i + 1, EntryType.Normal, new byte[] { (byte)i }));
        }
        storage.Append(entries);
        storage.SetHardState(new HardState(currentTerm, 0, 0));
        return storage;
    }

    public TestNode Add(ulong id, MemoryStorage storage)
    {
        var options = Configure(new RaftOptions { Id = id });
        var node = new TestNode(options, storage, seed: (int)id * 31);
        _nodes[id] = node;
        return node;
    }

    /// <summary>Replaces member <paramref name="id"/> by one over <paramref name="storage"/> (for preset logs).</summary>
    public TestNode Replace(ulong id, MemoryStorage storage) => Add(id, storage);

    public void Cut(ulong a, ulong b)
    {
        _cutLinks.Add((a, b));
        _cutLinks.Add((b, a));
    }

    /// <summary>Cuts every link of <paramref name="id"/> (a crash without losing state, or a partition).</summary>
    public void Isolate(ulong id)
    {
        foreach (var other in _nodes.Keys)
        {
            if (other != id)
            {
                Cut(id, other);
            }
        }
    }

    /// <summary>Cuts every link between the groups (members not named stay connected to everyone).</summary>
    public void Partition(params ulong[][] groups)
    {
        for (var i = 0; i < groups.Length; i++)
        {
            for (var j = i + 1; j < groups.Length; j++)
            {
                foreach (var a in groups[i])
                {
                    foreach (var b in groups[j])
                    {
                        Cut(a, b);
                    }
                }
            }
        }
    }

    public void Heal() => _cutLinks.Clear();

    public bool IsCut(ulong from, ulong to) => _cutLinks.Contains((from, to));

    /// <summary>Handles one Ready of member <paramref name="id"/> if it has one.</summary>
    public Ready? ProcessReady(ulong id)
    {
        var node = _nodes[id];
        if (!node.Raft.HasReady)
        {
            return null;
        }
        var ready = node.Raft.GetReady();
        node.Readies.Add(ready);
        OnReady?.Invoke(node, ready);
        Send(ready.Messages);
        node.Persist(ready);
        Send(ready.MessagesAfterPersist);
        node.ApplyAndAdvance(ready);
        return ready;
    }

    /// <summary>Delivers queued messages (those matching <paramref name="filter"/>, in send order); messages on
    /// cut links are dropped. Returns the messages delivered.</summary>
    public List<Message> Deliver(Func<Message, bool>? filter = null)
    {
        var delivered = new List<Message>();
        var remaining = new List<Message>();
        var batch = _queue.ToList();
        _queue.Clear();
        foreach (var message in batch)
        {
            if (filter is not null && !filter(message))
            {
                remaining.Add(message);
                continue;
            }
            if (IsCut(message.From, message.To) || !_nodes.TryGetValue(message.To, out var node))
            {
                Dropped.Add(message);
                OnDropped?.Invoke(message);
                continue;
            }
            delivered.Add(message);
            node.Raft.Step(message);
        }
        // Messages sent while delivering were queued behind the held ones.
        remaining.AddRange(_queue);
        _queue.Clear();
        _queue.AddRange(remaining);
        return delivered;
    }

    /// <summary>Drops queued messages matching <paramref name="filter"/> (all when null); returns how many.</summary>
    public int DropQueued(Func<Message, bool>? filter = null) => _queue.RemoveAll(m => filter is null || filter(m));

    /// <summary>Handles Readies and delivers messages until nothing is left to do (among <paramref name="only"/>
    /// when given: other members neither handle Readies nor receive messages).</summary>
    public void Stabilize(Func<Message, bool>? filter = null, IReadOnlyCollection<ulong>? only = null)
    {
        for (var round = 0; ; round++)
        {
            Assert.True(round < 10_000, "cluster did not stabilize");
            var progressed = false;
            foreach (var id in _nodes.Keys)
            {
                while ((only is null || only.Contains(id)) && ProcessReady(id) is not null)
                {
                    progressed = true;
                }
            }
            var delivered = Deliver(m => (filter is null || filter(m)) && (only is null || only.Contains(m.To)));
            if (delivered.Count > 0)
            {
                progressed = true;
            }
            if (!progressed)
            {
                return;
            }
        }
    }

    /// <summary>Ticks one member <paramref name="ticks"/> times, stabilizing after each tick.</summary>
    public void Tick(ulong id, int ticks = 1)
    {
        for (var i = 0; i < ticks; i++)
        {
            _nodes[id].Raft.Tick();
            Stabilize();
        }
    }

    /// <summary>Ticks every member <paramref name="ticks"/> times, stabilizing after each round.</summary>
    public void TickAll(int ticks = 1)
    {
        for (var i = 0; i < ticks; i++)
        {
            foreach (var node in _nodes.Values)
            {
                node.Raft.Tick();
            }
            Stabilize();
        }
    }

    /// <summary>Makes <paramref name="id"/> campaign and runs the election to the end; it must win.</summary>
    public TestNode Elect(ulong id)
    {
        _nodes[id].Raft.Campaign(transfer: false);
        Stabilize();
        Assert.Equal(RaftRole.Leader, _nodes[id].Raft.Role);
        return _nodes[id];
    }

    public ulong[] Leaders() => _nodes.Values.Where(n => n.Raft.Role == RaftRole.Leader).Select(n => n.Id).ToArray();

    /// <summary>Proposes <paramref name="text"/> on <paramref name="id"/>; the proposal must be accepted.</summary>
    public ulong Propose(ulong id, string text)
    {
        var result = _nodes[id].Raft.Propose(System.Text.Encoding.UTF8.GetBytes(text));
        Assert.True(result.IsAccepted, $"proposal refused: {result.Status}");
        return result.Index;
    }

    public int CountSent(Func<Message, bool> filter) => Sent.Count(filter);

    private void Send(IReadOnlyList<Message> messages)
    {
        foreach (var message in messages)
        {
            Sent.Add(message);
            if (DropWhen?.Invoke(message) == true || IsCut(message.From, message.To))
            {
                Dropped.Add(message);
                OnDropped?.Invoke(message);
                continue;
            }
            _queue.Add(message);
        }
    }
}
