using Grpc.Core;
using Parley.Mvcc;
using Parley.Node;
using Parley.Server.Auth;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Grpc;

/// <summary>
/// What the gRPC and HTTP handlers need from the member: submit writes and linearizable reads to the node loop and
/// await them, run queries on the loop thread, build response headers, and turn failures into etcd's statuses.
/// </summary>
internal sealed class NodeGateway
{
    private readonly NodeLoop _loop;

    public NodeGateway(NodeLoop loop, MemberDirectory directory, ServerOptions options, ServerMetrics metrics, AuthGate auth)
    {
        _loop = loop;
        Auth = auth;
        Directory = directory;
        Options = options;
        Metrics = metrics;
    }

    public MemberDirectory Directory { get; }

    public ServerOptions Options { get; }

    public ServerMetrics Metrics { get; }

    public NodeStatus Status => _loop.Status;

    public NodeLoop Loop => _loop;

    /// <summary>Tokens, callers and the published auth state (see <see cref="AuthRequirements"/>).</summary>
    public AuthGate Auth { get; }

    public EtcdPb.ResponseHeader Header(long revision, ulong term) => new()
    {
        ClusterId = Directory.ClusterId,
        MemberId = Directory.SelfId,
        Revision = revision,
        RaftTerm = term,
    };

    public Task<WriteResult> WriteAsync(WriteCommand command)
    {
        var reply = new LoopReply<WriteResult>(_loop, IsSmallAnswer);
        if (!_loop.TryPost(node => node.SubmitWrite(command, reply.Post)))
        {
            reply.TrySetResult(WriteResult.Failed(NodeError.TooManyRequests, 0));
        }
        return reply.Task;
    }

    /// <summary>
    /// A put's answer is small (one previous key at most), as is a failed write's; a delete's or a transaction's may
    /// carry many keys, whose encoding stays off the node loop.
    /// </summary>
    private static bool IsSmallAnswer(WriteResult result) => result.Outcome is not { IsSuccess: true } || result.Outcome.Kind == WriteCommandKind.Put;

    /// <summary>A write sent by the call's caller: with auth enabled the state machine checks it when applying it.</summary>
    public Task<WriteResult> WriteAsync(WriteCommand command, ServerCallContext context)
    {
        var caller = Auth.Caller(context);
        return WriteAsync(caller == command.Caller ? command : command.WithCaller(caller));
    }

    /// <summary>With auth enabled, the call's caller must be allowed to read the key (empty <paramref name="rangeEnd"/>) or range.</summary>
    public void RequireRead(ServerCallContext context, byte[] key, byte[] rangeEnd) =>
        AuthGate.ThrowIfFailed(Auth.State.CheckRead(Auth.Caller(context), key, rangeEnd));

    /// <summary>
    /// For calls that check keys later than their start (watch creates on a stream): whether the caller the token
    /// named at the start may read now, judged at the current auth revision as etcd resolves a token per check.
    /// </summary>
    public bool MayRead(ServerCallContext context, byte[] key, byte[] rangeEnd)
    {
        var state = Auth.State;
        var caller = Auth.Caller(context);
        return state.CheckRead(caller.IsNone ? caller : caller with { Revision = state.Revision }, key, rangeEnd) == MvccError.None;
    }

    public Task<ReadResult> ReadAsync(RangeRequest request)
    {
        var reply = new LoopReply<ReadResult>(_loop);
        if (!_loop.TryPost(node => node.SubmitRead(request, reply.Post)))
        {
            reply.TrySetResult(ReadResult.Failed(NodeError.TooManyRequests, 0));
        }
        return reply.Task;
    }

    public Task<T> QueryAsync<T>(Func<ClusterNode, T> query) => _loop.QueryAsync(query);

    /// <summary>A write whose node or MVCC failure becomes etcd's status; returns the response and the Raft term.</summary>
    public async Task<(T Response, ulong Term)> WriteOrThrowAsync<T>(WriteCommand command, ServerCallContext context)
        where T : class
    {
        RequireLeaderIfAsked(context);
        return Outcome<T>(await WriteAsync(command, context).ConfigureAwait(false));
    }

    /// <summary>A write's response and Raft term; its node or MVCC failure thrown as etcd's status.</summary>
    public static (T Response, ulong Term) Outcome<T>(WriteResult result)
        where T : class
    {
        if (result.Error != NodeError.None)
        {
            throw Failure(result.Error);
        }
        ThrowIfFailed(result.Outcome!.Error);
        return ((T)result.Outcome.Response!, result.RaftTerm);
    }

    /// <summary>A membership request or leadership move; refusals and node failures become etcd's statuses.</summary>
    public async Task<MemberChangeResult> MembershipAsync(Action<ClusterNode, Action<MemberChangeResult>> submit)
    {
        var reply = new LoopReply<MemberChangeResult>(_loop);
        if (!_loop.TryPost(node => submit(node, reply.Post)))
        {
            reply.TrySetResult(new MemberChangeResult(NodeError.TooManyRequests, MemberError.None, [], 0));
        }
        var outcome = await reply.Task.ConfigureAwait(false);
        if (outcome.Error != NodeError.None)
        {
            throw Failure(outcome.Error);
        }
        if (outcome.MemberError != MemberError.None)
        {
            throw new RpcException(new global::Grpc.Core.Status((StatusCode)MemberErrors.StatusCode(outcome.MemberError), MemberErrors.Message(outcome.MemberError)));
        }
        return outcome;
    }

    /// <summary>Asks the leader (through the node) about a lease; node failures become etcd's statuses.</summary>
    public async Task<LeaseAnswer> LeaseQueryAsync(LeaseQueryKind kind, long leaseId, bool withKeys)
    {
        var reply = new LoopReply<LeaseAnswer>(_loop);
        if (!_loop.TryPost(node => node.SubmitLeaseQuery(kind, leaseId, withKeys, reply.Post)))
        {
            reply.TrySetResult(LeaseAnswer.Failed(0, NodeError.TooManyRequests, leaseId, 0));
        }
        var answer = await reply.Task.ConfigureAwait(false);
        if (answer.Error != NodeError.None)
        {
            throw Failure(answer.Error);
        }
        return answer;
    }

    /// <summary>etcd's fail-fast for clients that set the <c>hasleader</c> metadata.</summary>
    public void RequireLeaderIfAsked(ServerCallContext context)
    {
        var hasLeader = CallHeaders.Get(context, "hasleader");
        if (hasLeader == "true" && !Status.HasLeader)
        {
            throw Failure(NodeError.NoLeader);
        }
    }

    /// <summary>
    /// etcd's quota check before a write that adds data (Put, Txn, LeaseGrant): when the stored bytes plus the
    /// request's cost reach --quota-backend-bytes, this member raises the NOSPACE alarm through Raft (so that every
    /// member refuses such writes until it is disarmed) and the request fails with "database space exceeded".
    /// </summary>
    public async Task RequireQuotaAsync(long costBytes)
    {
        var status = Status;
        if (status.StoredBytes + costBytes < Options.QuotaBackendBytes)
        {
            return;
        }
        var raised = new AlarmMember(Directory.SelfId, AlarmType.NoSpace);
        if (!status.Alarms.Contains(raised))
        {
            // As etcd, the outcome of raising is not the client's concern: it gets the space error either way.
            await WriteAsync(WriteCommand.Alarm(new AlarmRequest { Action = AlarmAction.Activate, MemberId = raised.MemberId, Alarm = raised.Alarm })).ConfigureAwait(false);
        }
        throw Failure(MvccError.NoSpace);
    }

    /// <summary>etcd's quota cost of a put: its key and value plus a fixed overhead for the key's metadata.</summary>
    public static long PutCostBytes(EtcdPb.PutRequest put) => 256 + put.Key.Length + put.Value.Length;

    /// <summary>etcd's quota cost of a txn: the larger of its branches' top-level puts (nested txns cost nothing, as in etcd).</summary>
    public static long TxnCostBytes(EtcdPb.TxnRequest txn)
    {
        long success = txn.Success.Where(op => op.RequestPut is not null).Sum(op => PutCostBytes(op.RequestPut));
        long failure = txn.Failure.Where(op => op.RequestPut is not null).Sum(op => PutCostBytes(op.RequestPut));
        return Math.Max(success, failure);
    }

    /// <summary>etcd's quota cost of a lease grant.</summary>
    public const long LeaseCostBytes = 64;

    public void RequireRequestSize(int bytes)
    {
        if (bytes > Options.MaxRequestBytes)
        {
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.InvalidArgument, "etcdserver: request is too large"));
        }
    }

    public static RpcException Failure(NodeError error) =>
        new(new global::Grpc.Core.Status((StatusCode)NodeErrors.StatusCode(error), NodeErrors.Message(error)));

    public static RpcException Failure(MvccError error) =>
        new(new global::Grpc.Core.Status((StatusCode)(int)MvccErrors.StatusCode(error), MvccErrors.Message(error)));

    public static void ThrowIfFailed(MvccError error)
    {
        if (error != MvccError.None)
        {
            throw Failure(error);
        }
    }
}
