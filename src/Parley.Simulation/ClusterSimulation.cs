using Parley.Raft;

namespace Parley.Simulation;

/// <summary>
/// One seeded run of a whole cluster on virtual time: a fault phase (crashes, partitions, message loss,
/// membership changes and leadership transfers under client load) followed by a healed liveness phase. The
/// same seed replays the same run exactly.
/// </summary>
public sealed partial class ClusterSimulation
{
    private readonly List<SimNode> _nodes = [];
    private readonly List<ClientOperation> _operations = [];
    private readonly List<SimClient> _clients = [];
    private ulong _nextOperationId = 1;
    private ulong _nextValue = 1;
    private ulong _nextNodeId;
    private bool _faultPhase = true;
    private long _events;
    private int _crashes;
    private int _partitions;
    private int _configChanges;

    public ClusterSimulation(SimulationParameters parameters, TextWriter? traceWriter = null)
    {
        Parameters = parameters;
        Random = new Random(unchecked((int)parameters.Seed ^ (int)(parameters.Seed >> 32) ^ 0x5eed));
        Events = new EventQueue();
        Trace = new Trace(Events, 64, traceWriter);
        Checker = new SafetyChecker();
        Network = new SimNetwork(Events, Random, parameters, FindNode);
    }

    public SimulationParameters Parameters { get; }

    public Random Random { get; }

    public EventQueue Events { get; }

    public Trace Trace { get; }

    public SafetyChecker Checker { get; }

    public SimNetwork Network { get; }

    public IReadOnlyList<SimNode> Nodes => _nodes;

    public static SimulationResult Run(ulong seed, int? nodes, SimulationBug bug, TextWriter? traceWriter = null) =>
        new ClusterSimulation(SimulationParameters.FromSeed(seed, nodes, bug), traceWriter).Run();

    public SimulationResult Run()
    {
        string? violation = null;
        var kind = "";
        try
        {
            Trace.Add($"seed {Parameters.Seed}: {Parameters}");
            Setup();
            RunFaultPhase();
            RunLivenessPhase();
            SafetyChecker.CheckLogMatching(_nodes);
        }
        catch (SimulationViolation exception)
        {
            violation = exception.Message;
            kind = exception.Kind;
        }
        catch (InvariantViolationException exception)
        {
            violation = "core assertion: " + exception.Message;
            kind = "assertion";
        }
        return new SimulationResult
        {
            Seed = Parameters.Seed,
            Parameters = Parameters,
            Violation = violation,
            ViolationKind = kind,
            TraceTail = violation is null ? "" : Trace.Tail(40),
            VirtualMicros = Events.NowMicros,
            Events = _events,
            MessagesSent = Network.MessagesSent,
            OperationsCompleted = _operations.Count(o => o.Outcome != OperationOutcome.Pending),
            OperationsAcknowledged = _operations.Count(o => o.Outcome == OperationOutcome.Ok),
            ReadsChecked = Checker.ReadsChecked,
            Crashes = _crashes,
            Partitions = _partitions,
            LeaderElections = Checker.LeaderElections,
            ConfigChanges = _configChanges,
            Snapshots = _nodes.Sum(n => n.Snapshots),
            Operations = _operations,
        };
    }

    public long DiskLatencyMicros() =>
        Parameters.DiskLatencyMinMicros + Random.NextInt64(Parameters.DiskLatencyMaxMicros - Parameters.DiskLatencyMinMicros + 1);

    private SimNode? FindNode(ulong id)
    {
        foreach (var node in _nodes)
        {
            if (node.Id == id)
            {
                return node;
            }
        }
        return null;
    }

    private void Setup()
    {
        var voters = Enumerable.Range(1, Parameters.Nodes).Select(i => (ulong)i).ToArray();
        _nextNodeId = (ulong)Parameters.Nodes + 1;
        foreach (var id in voters)
        {
            var storage = new MemoryStorage();
            Bootstrap.InitialMember(storage, voters);
            AddNode(id, storage);
        }
        for (var i = 0; i < Parameters.Clients; i++)
        {
            var client = new SimClient(this, i + 1);
            _clients.Add(client);
            Events.After(Random.NextInt64(50_000), client.StartNext);
        }
        ScheduleNemeses();
    }

    private SimNode AddNode(ulong id, MemoryStorage storage)
    {
        var node = new SimNode(this, id, storage);
        _nodes.Add(node);
        node.Start();
        // Members tick at the same rate but out of phase, as real clocks would.
        Events.After(Random.NextInt64(Parameters.TickMicros), () => TickLoop(node));
        return node;
    }

    private void TickLoop(SimNode node)
    {
        if (node.IsRemoved)
        {
            return;
        }
        node.Tick();
        Events.After(Parameters.TickMicros, () => TickLoop(node));
    }

    private void RunFaultPhase()
    {
        while (Events.NowMicros < Parameters.FaultPhaseMicros && Events.RunNext(Parameters.FaultPhaseMicros))
        {
            AfterEvent();
        }
    }

    private void RunLivenessPhase()
    {
        _faultPhase = false;
        Network.Heal();
        Network.Faulty = false;
        foreach (var node in _nodes)
        {
            if (!node.IsRunning && !node.IsRemoved)
            {
                node.Start();
            }
        }
        Trace.Add("heal: network healed, every member restarted");
        var deadline = Events.NowMicros + Parameters.LivenessBudgetMicros;
        var nextCheck = Events.NowMicros;
        while (Events.NowMicros < deadline)
        {
            if (!Events.RunNext(deadline))
            {
                break;
            }
            AfterEvent();
            if (Events.NowMicros >= nextCheck)
            {
                nextCheck = Events.NowMicros + 50_000;
                if (Converged())
                {
                    Trace.Add("converged");
                    return;
                }
            }
        }
        throw new SimulationViolation(
            $"liveness: no convergence within {Parameters.LivenessBudgetMicros / 1000}ms after healing " +
            $"(acknowledged up to {Checker.MaxAckedWriteIndex}; {DescribeNodes()})")
        { Kind = "liveness" };
    }

    private void AfterEvent()
    {
        _events++;
        if (_events % 4096 == 0)
        {
            SafetyChecker.CheckLogMatching(_nodes);
        }
    }

    /// <summary>A leader leads every current member, all clients are idle, and every member applied every
    /// acknowledged write.</summary>
    private bool Converged()
    {
        var leader = CurrentLeader();
        if (leader is null || _clients.Any(c => c.IsBusy))
        {
            return false;
        }
        var config = leader.Raft!.Config;
        foreach (var id in config.Voters.Concat(config.Learners))
        {
            var node = FindNode(id);
            if (node is null || !node.IsRunning || node.StateMachine.AppliedIndex < Checker.MaxAckedWriteIndex ||
                node.Raft!.Log.Applied < leader.Raft.Log.Committed)
            {
                return false;
            }
        }
        return true;
    }

    private SimNode? CurrentLeader()
    {
        SimNode? leader = null;
        foreach (var node in _nodes)
        {
            if (node.Raft is { Role: RaftRole.Leader } raft && (leader is null || raft.Term > leader.Raft!.Term))
            {
                leader = node;
            }
        }
        return leader;
    }

    private string DescribeNodes()
    {
        var nodes = string.Join("; ", _nodes.Select(n =>
            n.Raft is { } raft ? raft.ToString() : $"{n.Id} {(n.IsRemoved ? "removed" : "down")}"));
        var leader = CurrentLeader()?.Raft;
        var progress = leader is null ? "no leader" :
            "leader's view: " + string.Join("; ", leader.Progress.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"));
        return nodes + "; " + progress;
    }

    /// <summary>A member applied a membership change; a removed member is shut down, as etcd's members are.</summary>
    public void OnConfigChangeApplied(SimNode node, ConfigChange change)
    {
        if (change.Type != ConfigChangeType.RemoveNode)
        {
            return;
        }
        var removed = FindNode(change.NodeId);
        if (removed is { IsRemoved: false })
        {
            Trace.Add($"n{removed.Id} removed from the cluster (seen by n{node.Id})");
            removed.Crash();
            removed.IsRemoved = true;
        }
    }
}
