using System.Collections.Concurrent;

namespace Parley.Server;

/// <summary>
/// Who the members are: ids, names and peer URLs from the initial cluster, and the client URLs each member announced
/// in its peer hello (a member not heard from yet is "unstarted": no name, no client URLs, as etcd shows it).
/// </summary>
internal sealed class MemberDirectory
{
    private readonly ConcurrentDictionary<ulong, (string Name, string[] ClientUrls)> _started = new();

    public MemberDirectory(ServerOptions options)
    {
        ClusterToken = options.InitialClusterToken;
        Members = options.InitialCluster
            .Select(member => new MemberInfo(MemberIdentity.MemberId(member.PeerUrls, options.InitialClusterToken), member.Name,
                member.PeerUrls.Select(MemberIdentity.Normalize).ToArray()))
            .ToArray();
        SelfId = Members.Single(member => member.Name == options.Name).Id;
        ClusterId = MemberIdentity.ClusterId(Members.Select(member => member.Id), options.InitialClusterToken);
        MarkStarted(SelfId, options.Name, options.AdvertiseClientUrls.Select(MemberIdentity.Normalize).ToArray());
    }

    public string ClusterToken { get; }

    public ulong SelfId { get; }

    public ulong ClusterId { get; }

    public IReadOnlyList<MemberInfo> Members { get; }

    public void MarkStarted(ulong id, string name, string[] clientUrls) => _started[id] = (name, clientUrls);

    public (string Name, string[] ClientUrls)? Started(ulong id) => _started.TryGetValue(id, out var started) ? started : null;

    public sealed record MemberInfo(ulong Id, string Name, string[] PeerUrls);
}
