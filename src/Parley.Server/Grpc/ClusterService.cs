using Grpc.Core;
using Parley.Node;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Grpc;

/// <summary>
/// etcdserverpb.Cluster: MemberList from the replicated membership (names and client URLs as each member announced
/// them), and MemberAdd, MemberRemove, MemberUpdate, MemberPromote through the leader (see ClusterNode.Members).
/// </summary>
internal sealed class ClusterService(NodeGateway gateway, TimeProvider clock) : EtcdPb.Cluster.ClusterBase
{
    public override Task<EtcdPb.MemberListResponse> MemberList(EtcdPb.MemberListRequest request, ServerCallContext context)
    {
        // 3.4: cluster responses carry cluster_id, member_id and raft_term, no revision.
        var response = new EtcdPb.MemberListResponse { Header = gateway.Header(0, gateway.Status.Term) };
        response.Members.Add(Members());
        return Task.FromResult(response);
    }

    public override async Task<EtcdPb.MemberAddResponse> MemberAdd(EtcdPb.MemberAddRequest request, ServerCallContext context)
    {
        var urls = ValidPeerUrls(request.PeerURLs);
        // As etcd does, the time goes into the id: a member removed and added again at the same URLs gets a new id.
        var id = MemberIdentity.MemberId(urls.Select(url => new Uri(url)),
            gateway.Directory.ClusterToken + clock.GetUtcNow().ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        var kind = request.IsLearner ? MemberChangeKind.AddLearner : MemberChangeKind.AddVoter;
        var result = await gateway.MembershipAsync((node, done) => node.SubmitMemberChange(new MemberChange(kind, id, urls), done)).ConfigureAwait(false);
        var response = new EtcdPb.MemberAddResponse
        {
            Header = gateway.Header(0, result.RaftTerm),
            Member = new EtcdPb.Member { ID = id, IsLearner = request.IsLearner },
        };
        response.Member.PeerURLs.Add(urls);
        response.Members.Add(Members(result.Members));
        return response;
    }

    public override async Task<EtcdPb.MemberRemoveResponse> MemberRemove(EtcdPb.MemberRemoveRequest request, ServerCallContext context)
    {
        var result = await gateway.MembershipAsync((node, done) => node.SubmitMemberChange(new MemberChange(MemberChangeKind.Remove, request.ID, []), done)).ConfigureAwait(false);
        var response = new EtcdPb.MemberRemoveResponse { Header = gateway.Header(0, result.RaftTerm) };
        response.Members.Add(Members(result.Members));
        return response;
    }

    public override async Task<EtcdPb.MemberUpdateResponse> MemberUpdate(EtcdPb.MemberUpdateRequest request, ServerCallContext context)
    {
        var urls = ValidPeerUrls(request.PeerURLs);
        var result = await gateway.MembershipAsync((node, done) => node.SubmitMemberChange(new MemberChange(MemberChangeKind.Update, request.ID, urls), done)).ConfigureAwait(false);
        var response = new EtcdPb.MemberUpdateResponse { Header = gateway.Header(0, result.RaftTerm) };
        response.Members.Add(Members(result.Members));
        return response;
    }

    public override async Task<EtcdPb.MemberPromoteResponse> MemberPromote(EtcdPb.MemberPromoteRequest request, ServerCallContext context)
    {
        var result = await gateway.MembershipAsync((node, done) => node.SubmitMemberChange(new MemberChange(MemberChangeKind.Promote, request.ID, []), done)).ConfigureAwait(false);
        var response = new EtcdPb.MemberPromoteResponse { Header = gateway.Header(0, result.RaftTerm) };
        response.Members.Add(Members(result.Members));
        return response;
    }

    /// <summary>etcd's check of MemberAdd/MemberUpdate URLs: at least one, each an absolute http(s) URL with host and port.</summary>
    private static string[] ValidPeerUrls(IReadOnlyCollection<string> urls)
    {
        var valid = urls.Count > 0 && urls.All(url =>
            Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https" && parsed.Host.Length > 0
            && !parsed.IsDefaultPort && parsed.AbsolutePath == "/" && parsed.Query.Length == 0);
        if (!valid)
        {
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.InvalidArgument, "etcdserver: given member URLs are invalid"));
        }
        return urls.Select(url => MemberIdentity.Normalize(new Uri(url))).ToArray();
    }

    /// <summary>The membership as etcd lists it: started members with their name and client URLs, others unstarted.</summary>
    private IEnumerable<EtcdPb.Member> Members(IReadOnlyList<ClusterMember>? applied = null)
    {
        var directory = gateway.Directory;
        var members = applied is { Count: > 0 } ? directory.Update(applied) : directory.Members;
        foreach (var member in members)
        {
            var proto = new EtcdPb.Member { ID = member.Id, IsLearner = member.IsLearner };
            proto.PeerURLs.Add(member.PeerUrls);
            if (directory.Started(member.Id) is { } started)
            {
                proto.Name = started.Name;
                // With the scheme, as etcd: etcdctl --cluster dials these as given, so grpc-go sends ":authority:
                // http://host:port", which ProtocolSniffer's AuthorityRepairingReader makes acceptable to Kestrel.
                proto.ClientURLs.Add(started.ClientUrls);
            }
            yield return proto;
        }
    }
}
