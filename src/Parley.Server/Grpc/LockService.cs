using Grpc.Core;
using Parley.Mvcc;
using LockPb = V3Lockpb;

namespace Parley.Server.Grpc;

/// <summary>
/// v3lockpb.Lock: etcd's server-side mutex (clientv3 concurrency.Mutex run in the server). The lock key is
/// name/hex(lease) with that lease attached; the holder is the key with the smallest create revision under name/, and
/// a waiter waits for every older key to be deleted. Lease 0 gets a fresh 60 s lease nobody keeps alive, as in etcd.
/// The key's create revision is a fencing token: it grows with every acquisition (docs/fencing.md).
/// </summary>
internal sealed class LockService(NodeGateway gateway) : LockPb.Lock.LockBase
{
    private readonly ConcurrencyRecipes _recipes = new(gateway);

    public override async Task<LockPb.LockResponse> Lock(LockPb.LockRequest request, ServerCallContext context)
    {
        var lease = await _recipes.SessionLeaseAsync(request.Lease, context).ConfigureAwait(false);
        var prefix = ConcurrencyRecipes.Prefix(request.Name);
        var key = ConcurrencyRecipes.SessionKey(prefix, lease);
        var owner = RequestOp.Range(ConcurrencyRecipes.FirstCreate(prefix));
        var (response, term) = await _recipes.TxnAsync(new TxnRequest
        {
            Compare = [ConcurrencyRecipes.CreateRevisionIs(key, 0)],
            Success = [RequestOp.Put(new PutRequest { Key = key, Value = [], Lease = lease }), owner],
            Failure = [RequestOp.Range(new RangeRequest { Key = key }), owner],
        }, context).ConfigureAwait(false);
        var myRevision = response.Succeeded ? response.Header.Revision : response.Responses[0].ResponseRange!.Kvs[0].CreateRevision;
        var holder = response.Responses[1].ResponseRange!.Kvs;
        if (holder.Count == 0 || holder[0].CreateRevision == myRevision)
        {
            return new LockPb.LockResponse { Header = gateway.Header(response.Header.Revision, term), Key = Google.Protobuf.ByteString.CopyFrom(key) };
        }
        try
        {
            var header = await _recipes.WaitDeletesAsync(prefix, myRevision - 1, context.CancellationToken).ConfigureAwait(false);
            return new LockPb.LockResponse { Header = header, Key = Google.Protobuf.ByteString.CopyFrom(key) };
        }
        catch (Exception exception) when (exception is OperationCanceledException or RpcException)
        {
            // Gave up waiting (client cancelled, or the wait failed): leave the queue, as clientv3's Mutex does.
            // Best effort: the key would go with its lease anyway.
            await gateway.WriteAsync(WriteCommand.DeleteRange(new DeleteRangeRequest { Key = key }), context).ConfigureAwait(false);
            throw;
        }
    }

    public override async Task<LockPb.UnlockResponse> Unlock(LockPb.UnlockRequest request, ServerCallContext context)
    {
        var (response, term) = await gateway.WriteOrThrowAsync<DeleteRangeResponse>(
            WriteCommand.DeleteRange(new DeleteRangeRequest { Key = request.Key.ToByteArray() }), context).ConfigureAwait(false);
        return new LockPb.UnlockResponse { Header = gateway.Header(response.Header.Revision, term) };
    }
}
