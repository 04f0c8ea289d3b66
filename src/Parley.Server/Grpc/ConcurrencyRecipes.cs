using System.Globalization;
using Grpc.Core;
using Parley.Mvcc;
using Parley.Node;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Grpc;

/// <summary>
/// The building blocks of etcd's concurrency recipes (clientv3/concurrency, which etcd's v3lock and v3election
/// servers run inside the server), over this member: session leases, linearizable ranges, transactions, and waiting
/// for keys to be deleted through the <see cref="Watch.RevisionFeed"/> (no second feed, no polling).
/// </summary>
internal sealed class ConcurrencyRecipes(NodeGateway gateway)
{
    /// <summary>clientv3 concurrency's default session TTL: a lease the server grants for a request with lease 0.</summary>
    public const long SessionTtlSeconds = 60;

    private const int EventsPerReadMax = 1_000;

    public NodeGateway Gateway => gateway;

    /// <summary>Recipe failures (not etcdserver errors) reach clients as Unknown with etcd's text.</summary>
    public static RpcException RecipeError(string message) => new(new global::Grpc.Core.Status(StatusCode.Unknown, message));

    /// <summary>The recipes' key for a session: prefix + lease id in Go's %x (lower-case hex, no padding).</summary>
    public static byte[] SessionKey(byte[] prefix, long lease)
    {
        var hex = lease < 0 ? "-" + (-lease).ToString("x", CultureInfo.InvariantCulture) : lease.ToString("x", CultureInfo.InvariantCulture);
        return [.. prefix, .. System.Text.Encoding.ASCII.GetBytes(hex)];
    }

    public static byte[] Prefix(Google.Protobuf.ByteString name) => [.. name.Span, (byte)'/'];

    /// <summary>The given lease, or (for 0) a new one of <see cref="SessionTtlSeconds"/> that nobody keeps alive (etcd's orphaned session).</summary>
    public async Task<long> SessionLeaseAsync(long lease, ServerCallContext context)
    {
        if (lease != 0)
        {
            return lease;
        }
        var grant = new LeaseGrantRequest { TTL = SessionTtlSeconds };
        var (response, _) = await gateway.WriteOrThrowAsync<LeaseGrantResponse>(WriteCommand.LeaseGrant(grant), context).ConfigureAwait(false);
        return response.ID;
    }

    public async Task<(TxnResponse Response, ulong Term)> TxnAsync(TxnRequest txn, ServerCallContext context) =>
        await gateway.WriteOrThrowAsync<TxnResponse>(WriteCommand.Txn(txn), context).ConfigureAwait(false);

    public async Task<(RangeResponse Response, ulong Term)> RangeAsync(RangeRequest range)
    {
        var read = await gateway.ReadAsync(range).ConfigureAwait(false);
        if (read.Error != NodeError.None)
        {
            throw NodeGateway.Failure(read.Error);
        }
        NodeGateway.ThrowIfFailed(read.Range.Error);
        return (read.Range.Value!, read.RaftTerm);
    }

    /// <summary>The oldest key (smallest create revision) under the prefix: the owner (clientv3 WithFirstCreate).</summary>
    public static RangeRequest FirstCreate(byte[] prefix) => new()
    {
        Key = prefix, RangeEnd = KeyBytes.PrefixEnd(prefix), SortTarget = SortTarget.Create, SortOrder = SortOrder.Ascend, Limit = 1,
    };

    public static Compare CreateRevisionIs(byte[] key, long revision) =>
        new() { Key = key, Target = CompareTarget.Create, Result = CompareResult.Equal, CreateRevision = revision };

    /// <summary>
    /// clientv3 concurrency's waitDeletes: returns once no key under the prefix was created at or before
    /// <paramref name="maxCreateRevision"/>, waiting on the newest such key's deletion each round.
    /// </summary>
    public async Task<EtcdPb.ResponseHeader> WaitDeletesAsync(byte[] prefix, long maxCreateRevision, CancellationToken cancellation)
    {
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var (range, term) = await RangeAsync(new RangeRequest
            {
                Key = prefix, RangeEnd = KeyBytes.PrefixEnd(prefix), SortTarget = SortTarget.Create, SortOrder = SortOrder.Descend,
                Limit = 1, MaxCreateRevision = maxCreateRevision,
            }).ConfigureAwait(false);
            if (range.Kvs.Count == 0)
            {
                return gateway.Header(range.Header.Revision, term);
            }
            await WaitDeleteAsync(range.Kvs[0].Key, range.Header.Revision, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until <paramref name="key"/> is deleted at or after <paramref name="fromRevision"/>.</summary>
    public async Task WaitDeleteAsync(byte[] key, long fromRevision, CancellationToken cancellation)
    {
        await foreach (var change in FollowAsync(key, null, fromRevision, cancellation).ConfigureAwait(false))
        {
            if (change.Type == EventType.Delete)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Every event of [key, rangeEnd) from <paramref name="fromRevision"/> on, as the member applies them, until
    /// cancelled. A start that was compacted away fails with etcd's compacted error, as a clientv3 watch would.
    /// </summary>
    public async IAsyncEnumerable<MvccEvent> FollowAsync(
        byte[] key, byte[]? rangeEnd, long fromRevision, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        var feed = gateway.Loop.Feed;
        using var attached = feed.Attach();
        var next = fromRevision;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var read = await feed.ReadAsync(new EventQuery(next, key, rangeEnd, PrevKv: false, EventsPerReadMax), cancellation).ConfigureAwait(false);
            if (read.Result.Error != MvccError.None)
            {
                throw NodeGateway.Failure(read.Result.Error);
            }
            foreach (var change in read.Events)
            {
                yield return change;
            }
            next = Math.Max(next, read.Result.NextRevision);
            if (next > feed.Revision)
            {
                await feed.WaitForRevisionAsync(next, cancellation).ConfigureAwait(false);
            }
        }
    }
}
