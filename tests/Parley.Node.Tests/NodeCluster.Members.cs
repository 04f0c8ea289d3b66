using Parley.Storage;

namespace Parley.Node.Tests;

internal sealed partial class NodeCluster
{
    public static string PeerUrl(ulong id) => $"http://127.0.0.{id}:2380";

    /// <summary>Starts a member that joins an existing cluster: empty storage, no initial voters.</summary>
    public void StartJoiner(ulong id, int seed = 99)
    {
        var storage = MemberStorage.Open(new SimulatedFileSystem(new Random(seed)), "/data", new StorageIdentity(77, id));
        var member = new Member(this, id, storage);
        member.Node = new ClusterNode(new NodeOptions { MemberId = id, ElectionTimeoutTicks = ElectionTimeoutTicks, TickIntervalMs = 100 }, storage, member, new Random(seed));
        _members[id] = member;
    }

    /// <summary>Submits a membership request at <paramref name="at"/> and runs the cluster until it completes.</summary>
    public MemberChangeResult Change(ulong at, MemberChangeKind kind, ulong memberId, params string[] peerUrls)
    {
        MemberChangeResult? result = null;
        Node(at).SubmitMemberChange(new MemberChange(kind, memberId, peerUrls), outcome => result = outcome);
        return Await(() => result);
    }

    public MemberChangeResult Transfer(ulong at, ulong target)
    {
        MemberChangeResult? result = null;
        Node(at).TransferLeadership(target, outcome => result = outcome);
        return Await(() => result);
    }

    /// <summary>The member that leads now (Raft role), after ticking until one does.</summary>
    public ulong RaftLeader()
    {
        for (var i = 0; i < 50 * ElectionTimeoutTicks; i++)
        {
            foreach (var member in _members.Values)
            {
                if (!member.IsDown && member.Node.GetStatus().IsLeader)
                {
                    return member.Id;
                }
            }
            Tick();
        }
        throw new InvalidOperationException("no leader emerged");
    }

    private T Await<T>(Func<T?> result) where T : struct
    {
        for (var i = 0; result() is null && i < 200; i++)
        {
            Settle();
            if (result() is null)
            {
                Tick();
            }
        }
        return result() ?? throw new InvalidOperationException("request did not complete");
    }
}
