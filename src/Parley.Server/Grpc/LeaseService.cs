using Grpc.Core;
using Parley.Mvcc;
using Parley.Node;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Grpc;

/// <summary>
/// etcdserverpb.Lease. Grant and Revoke are writes through Raft; KeepAlive and TimeToLive are answered by the leader
/// (the only member that keeps leases' clocks; a follower asks it over the peer link); Leases lists the leases after a
/// linearizable read barrier.
/// </summary>
internal sealed class LeaseService(NodeGateway gateway) : EtcdPb.Lease.LeaseBase
{
    public override async Task<EtcdPb.LeaseGrantResponse> LeaseGrant(EtcdPb.LeaseGrantRequest request, ServerCallContext context)
    {
        await gateway.RequireQuotaAsync(NodeGateway.LeaseCostBytes).ConfigureAwait(false);
        var grant = new LeaseGrantRequest { TTL = request.TTL, ID = request.ID };
        var (response, term) = await gateway.WriteOrThrowAsync<LeaseGrantResponse>(WriteCommand.LeaseGrant(grant), context).ConfigureAwait(false);
        return new EtcdPb.LeaseGrantResponse { Header = gateway.Header(response.Header.Revision, term), ID = response.ID, TTL = response.TTL };
    }

    public override async Task<EtcdPb.LeaseRevokeResponse> LeaseRevoke(EtcdPb.LeaseRevokeRequest request, ServerCallContext context)
    {
        var revoke = new LeaseRevokeRequest { ID = request.ID };
        var (response, term) = await gateway.WriteOrThrowAsync<LeaseRevokeResponse>(WriteCommand.LeaseRevoke(revoke), context).ConfigureAwait(false);
        return new EtcdPb.LeaseRevokeResponse { Header = gateway.Header(response.Header.Revision, term) };
    }

    public override async Task LeaseKeepAlive(
        IAsyncStreamReader<EtcdPb.LeaseKeepAliveRequest> requestStream, IServerStreamWriter<EtcdPb.LeaseKeepAliveResponse> responseStream,
        ServerCallContext context)
    {
        gateway.RequireLeaderIfAsked(context);
        while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            var id = requestStream.Current.ID;
            var answer = await gateway.LeaseQueryAsync(LeaseQueryKind.KeepAlive, id, withKeys: false).ConfigureAwait(false);
            // An unknown or expired lease is an answer with TTL 0, not an error (etcd 3.4).
            await responseStream.WriteAsync(new EtcdPb.LeaseKeepAliveResponse
            {
                Header = gateway.Header(answer.Revision, answer.RaftTerm),
                ID = id,
                TTL = answer.TtlSeconds,
            }, context.CancellationToken).ConfigureAwait(false);
        }
    }

    public override async Task<EtcdPb.LeaseTimeToLiveResponse> LeaseTimeToLive(EtcdPb.LeaseTimeToLiveRequest request, ServerCallContext context)
    {
        gateway.RequireLeaderIfAsked(context);
        var answer = await gateway.LeaseQueryAsync(LeaseQueryKind.TimeToLive, request.ID, request.Keys).ConfigureAwait(false);
        var response = new EtcdPb.LeaseTimeToLiveResponse
        {
            Header = gateway.Header(answer.Revision, answer.RaftTerm),
            ID = request.ID,
            TTL = answer.TtlSeconds,
            GrantedTTL = answer.GrantedTtlSeconds,
        };
        foreach (var key in answer.Keys)
        {
            response.Keys.Add(Google.Protobuf.ByteString.CopyFrom(key));
        }
        return response;
    }

    public override async Task<EtcdPb.LeaseLeasesResponse> LeaseLeases(EtcdPb.LeaseLeasesRequest request, ServerCallContext context)
    {
        gateway.RequireLeaderIfAsked(context);
        // A read barrier first, so a lease granted through another member (or revoked) is seen here.
        var barrier = await gateway.ReadAsync(new RangeRequest { Key = [0], CountOnly = true }).ConfigureAwait(false);
        if (barrier.Error != NodeError.None)
        {
            throw NodeGateway.Failure(barrier.Error);
        }
        var (ids, revision, term) = await gateway.QueryAsync(node => (node.Store.LeaseIds(), node.Store.Revision, node.Term)).ConfigureAwait(false);
        var response = new EtcdPb.LeaseLeasesResponse { Header = gateway.Header(revision, term) };
        foreach (var id in ids)
        {
            response.Leases.Add(new EtcdPb.LeaseStatus { ID = id });
        }
        return response;
    }
}
