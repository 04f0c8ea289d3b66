using Parley.Node;
using Parley.Raft;
using Parley.Storage;

namespace Parley.Simulation.NodeMode;

/// <summary>
/// One simulated member: a real <see cref="ClusterNode"/> over a real <see cref="MemberStorage"/> on its own
/// <see cref="SimulatedFileSystem"/>, talking through the simulated network. A crash drops the node and the storage
/// object and crashes the disk (unsynced writes lost, the last one maybe torn); a restart reopens the storage
/// (recovery) and builds a new node from what it recovered. A member whose storage refuses to open after a bit flip is
/// quarantined: it stays down for the rest of the run, as a real member that refuses to start would until an operator
/// replaces it. A member that applied its own removal (or a fresh member whose addition was refused) is retired: stopped
/// for good, its id never used again.
/// </summary>
public sealed class SimMember : INodeTransport, ISimEndpoint
{
    public const string DataDirectory = "/data";

    private readonly NodeSimulation _simulation;
    // Members this incarnation heard from (the server's transport opens a link back to a sender it does not know).
    private readonly HashSet<ulong> _heardFrom = [];

    public SimMember(NodeSimulation simulation, ulong id, SimulatedFileSystem fileSystem)
    {
        _simulation = simulation;
        Id = id;
        FileSystem = fileSystem;
    }

    public ulong Id { get; }

    public SimulatedFileSystem FileSystem { get; }

    public MemberStorage? Storage { get; private set; }

    public ClusterNode? Node { get; private set; }

    /// <summary>Bumped at every crash: events and buffered messages of an older incarnation are void.</summary>
    public long Incarnation { get; private set; }

    public bool IsRunning => Node is not null;

    /// <summary>Refused to start after a bit flip; stays down.</summary>
    public bool IsQuarantined { get; set; }

    /// <summary>Stopped for good: removed from the cluster, or a fresh member the cluster refused to add.</summary>
    public bool IsRetired { get; private set; }

    /// <summary>Retired because it applied its own removal.</summary>
    public bool AppliedOwnRemoval { get; private set; }

    /// <summary>Will never run again (quarantined or retired).</summary>
    public bool IsDead => IsQuarantined || IsRetired;

    public bool TurnScheduled { get; set; }

    /// <summary>This incarnation last applied a membership that holds the member itself.</summary>
    public bool SelfInMembership { get; set; }

    /// <summary>The membership this member last reported applying (across restarts: a restart replays up to its synced
    /// commit, which covers every membership change it had applied).</summary>
    public MembershipView? LastView { get; set; }

    /// <summary>The index at which this incarnation applied its own removal (0: it has not).</summary>
    public ulong OwnRemovalIndex { get; set; }

    /// <summary>The highest commit index another member, as leader, sent this incarnation.</summary>
    public ulong CommitHeardFromLeader { get; private set; }

    public int Restarts { get; private set; }

    public void Started(MemberStorage storage, ClusterNode node)
    {
        Storage = storage;
        Node = node;
        OwnRemovalIndex = 0;
        CommitHeardFromLeader = 0;
        _heardFrom.Clear();
        Restarts++;
    }

    /// <summary>Power loss: the node and its storage vanish without another word; the disk keeps only what was synced.</summary>
    public void Crash()
    {
        Storage?.Dispose();
        Storage = null;
        Node = null;
        TurnScheduled = false;
        Incarnation++;
        FileSystem.Crash();
    }

    /// <summary>Stops the member for good: requests waiting in it fail, its storage closes, it never restarts.</summary>
    public void Retire(bool removed)
    {
        AppliedOwnRemoval = removed;
        var node = Node;
        Storage?.Dispose();
        Storage = null;
        Node = null;
        TurnScheduled = false;
        Incarnation++;
        IsRetired = true;
        node?.Stop();
    }

    /// <summary>
    /// Whether a message from this member to <paramref name="to"/> goes out at all. As the server's peer transport: a
    /// member has links to the members of the membership it applied (to everyone named before it applied one) and to
    /// members it heard from that it does not know to be removed (a member that is behind answers one that joined while
    /// it was down). Messages to anyone else are dropped at the sender.
    /// </summary>
    public bool CanAddress(ulong to)
    {
        if (Node is not { } node)
        {
            return false;
        }
        var members = node.Members;
        if (members.Count == 0)
        {
            return true;
        }
        foreach (var member in members)
        {
            if (member.Id == to)
            {
                return true;
            }
        }
        return _simulation.Parameters.Bug != NodeSimulationBug.NoRemoteLinks && _heardFrom.Contains(to) && !node.Store.RemovedMembers.Contains(to);
    }

    public void Receive(Message message)
    {
        if (Node is { } node)
        {
            _heardFrom.Add(message.From);
            if (message.To == Id && message.From != Id)
            {
                var commit = message.Type switch
                {
                    MessageType.Append or MessageType.Heartbeat => message.Commit,
                    MessageType.InstallSnapshot => message.Snapshot?.Metadata.Index ?? 0,
                    _ => 0UL,
                };
                CommitHeardFromLeader = Math.Max(CommitHeardFromLeader, commit);
            }
            node.Step(message);
            _simulation.ScheduleTurn(this);
        }
    }

    /// <summary>Hands any other peer input (forwards, lease questions and their answers) to the running node.</summary>
    public void Deliver(ulong from, Action<ClusterNode> input)
    {
        if (Node is { } node)
        {
            _heardFrom.Add(from);
            input(node);
            _simulation.ScheduleTurn(this);
        }
    }

    void INodeTransport.SendLeaseQuery(ulong leader, LeaseQuery query) => _simulation.Network.SendLeaseQuery(Id, leader, query);

    void INodeTransport.SendLeaseAnswer(ulong member, LeaseAnswer answer) => _simulation.Network.SendLeaseAnswer(Id, member, answer);

    void INodeTransport.Send(Message message)
    {
        if (CanAddress(message.To)) // here, not in the network: the checker records only what left the member
        {
            _simulation.OnSend(this, message);
        }
    }

    void INodeTransport.Forward(ulong leader, IReadOnlyList<byte[]> proposals) => _simulation.Network.Forward(Id, leader, proposals);

    void INodeTransport.SendForwardAnswer(ulong member, ForwardAnswer answer) => _simulation.Network.SendForwardAnswer(Id, member, answer);

    public override string ToString()
    {
        if (IsQuarantined)
        {
            return $"{Id} quarantined";
        }
        if (IsRetired)
        {
            return $"{Id} retired";
        }
        if (Node is not { } node)
        {
            return $"{Id} down";
        }
        var status = node.GetStatus();
        return $"{Id} {status.Role} term={status.Term} leader={status.Leader} commit={status.CommitIndex} applied={status.AppliedIndex} rev={status.Revision}";
    }
}
