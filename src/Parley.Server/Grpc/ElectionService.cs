using Grpc.Core;
using Parley.Mvcc;
using ElectionPb = V3Electionpb;

namespace Parley.Server.Grpc;

/// <summary>
/// v3electionpb.Election: etcd's server-side election (clientv3 concurrency.Election run in the server). A candidate's
/// key is name/hex(lease) holding its value; the leader is the key with the smallest create revision under name/.
/// Campaign waits until every older candidate is gone; Proclaim and Resign act only while the key still has the
/// create revision the leader was given. Recipe errors reach clients as Unknown with etcd's text.
/// </summary>
internal sealed class ElectionService(NodeGateway gateway) : ElectionPb.Election.ElectionBase
{
    public const string NoLeaderMessage = "election: no leader";
    public const string NotLeaderMessage = "election: not leader";
    public const string MissingLeaderKeyMessage = "\"leader\" field must be provided";

    private readonly ConcurrencyRecipes _recipes = new(gateway);

    public override async Task<ElectionPb.CampaignResponse> Campaign(ElectionPb.CampaignRequest request, ServerCallContext context)
    {
        var lease = await _recipes.SessionLeaseAsync(request.Lease, context).ConfigureAwait(false);
        var prefix = ConcurrencyRecipes.Prefix(request.Name);
        var key = ConcurrencyRecipes.SessionKey(prefix, lease);
        var value = request.Value.ToByteArray();
        var (response, term) = await _recipes.TxnAsync(new TxnRequest
        {
            Compare = [ConcurrencyRecipes.CreateRevisionIs(key, 0)],
            Success = [RequestOp.Put(new PutRequest { Key = key, Value = value, Lease = lease })],
            Failure = [RequestOp.Range(new RangeRequest { Key = key })],
        }, context).ConfigureAwait(false);
        var leaderRevision = response.Header.Revision;
        if (!response.Succeeded)
        {
            var existing = response.Responses[0].ResponseRange!.Kvs[0];
            leaderRevision = existing.CreateRevision;
            if (!existing.Value.AsSpan().SequenceEqual(value))
            {
                try
                {
                    await ProclaimAsync(key, leaderRevision, lease, value, context).ConfigureAwait(false);
                }
                catch (RpcException)
                {
                    await ResignAsync(key, leaderRevision, context).ConfigureAwait(false);
                    throw;
                }
            }
        }
        try
        {
            await _recipes.WaitDeletesAsync(prefix, leaderRevision - 1, context.CancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await ResignAsync(key, leaderRevision, context).ConfigureAwait(false);
            throw;
        }
        return new ElectionPb.CampaignResponse
        {
            Header = gateway.Header(response.Header.Revision, term),
            Leader = new ElectionPb.LeaderKey { Name = request.Name, Key = Google.Protobuf.ByteString.CopyFrom(key), Rev = leaderRevision, Lease = lease },
        };
    }

    public override async Task<ElectionPb.ProclaimResponse> Proclaim(ElectionPb.ProclaimRequest request, ServerCallContext context)
    {
        var leader = request.Leader ?? throw ConcurrencyRecipes.RecipeError(MissingLeaderKeyMessage);
        var header = await ProclaimAsync(leader.Key.ToByteArray(), leader.Rev, leader.Lease, request.Value.ToByteArray(), context).ConfigureAwait(false);
        return new ElectionPb.ProclaimResponse { Header = header };
    }

    public override async Task<ElectionPb.LeaderResponse> Leader(ElectionPb.LeaderRequest request, ServerCallContext context)
    {
        var (range, term) = await _recipes.RangeAsync(ConcurrencyRecipes.FirstCreate(ConcurrencyRecipes.Prefix(request.Name))).ConfigureAwait(false);
        if (range.Kvs.Count == 0)
        {
            throw ConcurrencyRecipes.RecipeError(NoLeaderMessage);
        }
        return new ElectionPb.LeaderResponse { Header = gateway.Header(range.Header.Revision, term), Kv = ProtoMapper.ToProto(range.Kvs[0]) };
    }

    /// <summary>
    /// The current leader, then every change of it: the leader's key's later puts (proclamations), and after its
    /// deletion the next leader (waiting for a first candidate when there is none), as clientv3's Election.Observe.
    /// </summary>
    public override async Task Observe(ElectionPb.LeaderRequest request, IServerStreamWriter<ElectionPb.LeaderResponse> responseStream, ServerCallContext context)
    {
        var cancellation = context.CancellationToken;
        var prefix = ConcurrencyRecipes.Prefix(request.Name);
        while (!cancellation.IsCancellationRequested)
        {
            var (range, _) = await _recipes.RangeAsync(ConcurrencyRecipes.FirstCreate(prefix)).ConfigureAwait(false);
            KeyValue? leader = range.Kvs.Count > 0 ? range.Kvs[0] : null;
            var revision = range.Header.Revision;
            if (leader is null)
            {
                await foreach (var change in _recipes.FollowAsync(prefix, KeyBytes.PrefixEnd(prefix), revision + 1, cancellation).ConfigureAwait(false))
                {
                    if (change.Type == EventType.Put)
                    {
                        leader = change.Kv;
                        revision = change.Kv.ModRevision;
                        break;
                    }
                }
            }
            await SendAsync(responseStream, leader!, revision, cancellation).ConfigureAwait(false);
            await foreach (var change in _recipes.FollowAsync(leader!.Key, null, revision + 1, cancellation).ConfigureAwait(false))
            {
                if (change.Type == EventType.Delete)
                {
                    break;
                }
                await SendAsync(responseStream, change.Kv, change.Kv.ModRevision, cancellation).ConfigureAwait(false);
            }
        }
    }

    public override async Task<ElectionPb.ResignResponse> Resign(ElectionPb.ResignRequest request, ServerCallContext context)
    {
        var leader = request.Leader ?? throw ConcurrencyRecipes.RecipeError(MissingLeaderKeyMessage);
        var header = await ResignAsync(leader.Key.ToByteArray(), leader.Rev, context).ConfigureAwait(false);
        return new ElectionPb.ResignResponse { Header = header };
    }

    private Task SendAsync(IServerStreamWriter<ElectionPb.LeaderResponse> stream, KeyValue kv, long revision, CancellationToken cancellation) =>
        stream.WriteAsync(new ElectionPb.LeaderResponse { Header = gateway.Header(revision, gateway.Status.Term), Kv = ProtoMapper.ToProto(kv) }, cancellation);

    private async Task<Etcdserverpb.ResponseHeader> ProclaimAsync(byte[] key, long leaderRevision, long lease, byte[] value, ServerCallContext context)
    {
        var (response, term) = await _recipes.TxnAsync(new TxnRequest
        {
            Compare = [ConcurrencyRecipes.CreateRevisionIs(key, leaderRevision)],
            Success = [RequestOp.Put(new PutRequest { Key = key, Value = value, Lease = lease })],
        }, context).ConfigureAwait(false);
        if (!response.Succeeded)
        {
            throw ConcurrencyRecipes.RecipeError(NotLeaderMessage);
        }
        return gateway.Header(response.Header.Revision, term);
    }

    private async Task<Etcdserverpb.ResponseHeader> ResignAsync(byte[] key, long leaderRevision, ServerCallContext context)
    {
        var (response, term) = await _recipes.TxnAsync(new TxnRequest
        {
            Compare = [ConcurrencyRecipes.CreateRevisionIs(key, leaderRevision)],
            Success = [RequestOp.DeleteRange(new DeleteRangeRequest { Key = key })],
        }, context).ConfigureAwait(false);
        return gateway.Header(response.Header.Revision, term);
    }
}
