using System.Collections.Concurrent;
using Parley.Node;

namespace Parley.Server;

/// <summary>
/// Who the members are. Ids and peer URLs come from the replicated membership (<see cref="ClusterNode.Members"/>,
/// published by <see cref="Update"/>); before the node has applied it (a new cluster's first start, a member that
/// joins) they come from --initial-cluster or from the cluster that was asked. Names and client URLs come from each
/// member's peer hello: a member not heard from yet is "unstarted" (no name, no client URLs), as etcd shows it.
/// </summary>
internal sealed class MemberDirectory
{
    private readonly ConcurrentDictionary<ulong, (string Name, string[] ClientUrls)> _started = new();
    private readonly Dictionary<ulong, string[]> _knownPeerUrls;
    private volatile IReadOnlyList<MemberInfo> _members;
    private volatile IReadOnlyList<ulong> _removed = [];

    public MemberDirectory(ulong clusterId, ulong selfId, string clusterToken, IReadOnlyList<MemberInfo> initialMembers)
    {
        ClusterId = clusterId;
        SelfId = selfId;
        ClusterToken = clusterToken;
        _members = initialMembers;
        _knownPeerUrls = initialMembers.ToDictionary(member => member.Id, member => member.PeerUrls);
    }

    /// <summary>A new cluster's member: cluster and member ids computed from --initial-cluster and the token, as etcd does.</summary>
    public static MemberDirectory ForNewCluster(ServerOptions options)
    {
        var initial = FromInitialCluster(options);
        var self = options.InitialCluster.Single(member => member.Name == options.Name);
        return new MemberDirectory(
            MemberIdentity.ClusterId(initial.Select(member => member.Id), options.InitialClusterToken),
            MemberIdentity.MemberId(self.PeerUrls, options.InitialClusterToken), options.InitialClusterToken, initial);
    }

    /// <summary>The members --initial-cluster names (in its order), with the ids every member of a new cluster computes.</summary>
    public static IReadOnlyList<MemberInfo> FromInitialCluster(ServerOptions options) =>
        options.InitialCluster
            .Select(member => new MemberInfo(MemberIdentity.MemberId(member.PeerUrls, options.InitialClusterToken),
                member.PeerUrls.Select(MemberIdentity.Normalize).ToArray(), IsLearner: false))
            .ToArray();

    public string ClusterToken { get; }

    public ulong SelfId { get; }

    public ulong ClusterId { get; }

    /// <summary>Members in id order (safe on any thread).</summary>
    public IReadOnlyList<MemberInfo> Members => _members;

    public bool IsMember(ulong id) => _members.Any(member => member.Id == id);

    /// <summary>A member the cluster removed: its id never comes back (safe on any thread).</summary>
    public bool IsRemoved(ulong id) => _removed.Contains(id);

    /// <summary>Takes the replicated list of removed member ids.</summary>
    public void UpdateRemoved(IReadOnlyList<ulong> removed) => _removed = [.. removed];

    /// <summary>Takes the replicated membership; a member the replicated state has no URLs for keeps the ones known.</summary>
    public IReadOnlyList<MemberInfo> Update(IReadOnlyList<ClusterMember> members)
    {
        if (members.Count == 0)
        {
            return _members; // not bootstrapped yet
        }
        var updated = members
            .Select(member => new MemberInfo(member.Id,
                member.PeerUrls.Count > 0 ? [.. member.PeerUrls] : _knownPeerUrls.GetValueOrDefault(member.Id, []), member.IsLearner))
            .ToArray();
        _members = updated;
        return updated;
    }

    public void MarkStarted(ulong id, string name, string[] clientUrls) => _started[id] = (name, clientUrls);

    public (string Name, string[] ClientUrls)? Started(ulong id) => _started.TryGetValue(id, out var started) ? started : null;

    public sealed record MemberInfo(ulong Id, string[] PeerUrls, bool IsLearner);
}
