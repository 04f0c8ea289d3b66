using Grpc.Core;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Grpc;

/// <summary>etcdserverpb.Cluster: MemberList (membership changes come with a later issue).</summary>
internal sealed class ClusterService(NodeGateway gateway) : EtcdPb.Cluster.ClusterBase
{
    public override Task<EtcdPb.MemberListResponse> MemberList(EtcdPb.MemberListRequest request, ServerCallContext context)
    {
        var status = gateway.Status;
        // 3.4: cluster responses carry cluster_id, member_id and raft_term, no revision.
        var response = new EtcdPb.MemberListResponse { Header = gateway.Header(0, status.Term) };
        foreach (var member in gateway.Directory.Members)
        {
            var proto = new EtcdPb.Member { ID = member.Id, IsLearner = status.Learners.Contains(member.Id) };
            proto.PeerURLs.Add(member.PeerUrls);
            if (gateway.Directory.Started(member.Id) is { } started)
            {
                proto.Name = started.Name;
                // Without the scheme: etcdctl --cluster dials these as given, and grpc-go then sends ":authority:
                // http://host:port", which Kestrel rejects (PROTOCOL_ERROR; etcd's Go server accepts it).
                proto.ClientURLs.Add(started.ClientUrls.Select(StripScheme));
            }
            response.Members.Add(proto);
        }
        return Task.FromResult(response);
    }

    private static string StripScheme(string url) =>
        url.StartsWith("http://", StringComparison.Ordinal) ? url["http://".Length..] : url;
}
