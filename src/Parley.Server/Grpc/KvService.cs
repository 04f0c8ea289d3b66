using Grpc.Core;
using Parley.Mvcc;
using Parley.Node;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Grpc;

/// <summary>etcdserverpb.KV: writes go through Raft; ranges are linearizable (ReadIndex) unless serializable.</summary>
internal sealed class KvService(NodeGateway gateway) : EtcdPb.KV.KVBase
{
    public override async Task<EtcdPb.RangeResponse> Range(EtcdPb.RangeRequest request, ServerCallContext context)
    {
        gateway.RequireLeaderIfAsked(context);
        var range = ProtoMapper.ToMvcc(request);
        NodeGateway.ThrowIfFailed(RequestValidator.ValidateRange(range));
        gateway.RequireRead(context, range.Key, range.RangeEnd);
        gateway.Metrics.CountRange();
        if (request.Serializable)
        {
            var (result, term) = await gateway.QueryAsync(node => (node.Store.Range(range), node.Term)).ConfigureAwait(false);
            NodeGateway.ThrowIfFailed(result.Error);
            return ProtoMapper.ToProto(result.Value!, gateway.Header(result.Value!.Header.Revision, term));
        }
        var read = await gateway.ReadAsync(range).ConfigureAwait(false);
        if (read.Error != NodeError.None)
        {
            throw NodeGateway.Failure(read.Error);
        }
        NodeGateway.ThrowIfFailed(read.Range.Error);
        return ProtoMapper.ToProto(read.Range.Value!, gateway.Header(read.Range.Value!.Header.Revision, read.RaftTerm));
    }

    public override async Task<EtcdPb.PutResponse> Put(EtcdPb.PutRequest request, ServerCallContext context)
    {
        await gateway.RequireQuotaAsync(NodeGateway.PutCostBytes(request)).ConfigureAwait(false); // before validation, as etcd's quota layer
        var put = ProtoMapper.ToMvcc(request);
        var (response, term) = NodeGateway.Outcome<PutResponse>(await SubmitAsync(request.CalculateSize(), RequestValidator.ValidatePut(put), WriteCommand.Put(put), context).ConfigureAwait(false));
        gateway.Metrics.CountPut();
        return ProtoMapper.ToProto(response, gateway.Header(response.Header.Revision, term));
    }

    public override async Task<EtcdPb.DeleteRangeResponse> DeleteRange(EtcdPb.DeleteRangeRequest request, ServerCallContext context)
    {
        var delete = ProtoMapper.ToMvcc(request);
        var (response, term) = NodeGateway.Outcome<DeleteRangeResponse>(await SubmitAsync(request.CalculateSize(), RequestValidator.ValidateDeleteRange(delete), WriteCommand.DeleteRange(delete), context).ConfigureAwait(false));
        gateway.Metrics.CountDelete();
        return ProtoMapper.ToProto(response, gateway.Header(response.Header.Revision, term));
    }

    public override async Task<EtcdPb.TxnResponse> Txn(EtcdPb.TxnRequest request, ServerCallContext context)
    {
        await gateway.RequireQuotaAsync(NodeGateway.TxnCostBytes(request)).ConfigureAwait(false); // every txn, as etcd's quota layer
        var txn = ProtoMapper.ToMvcc(request);
        var validation = RequestValidator.ValidateTxn(txn, MvccOptions.Default.TxnOperationsMax);
        var (response, term) = NodeGateway.Outcome<TxnResponse>(await SubmitAsync(request.CalculateSize(), validation, WriteCommand.Txn(txn), context).ConfigureAwait(false));
        gateway.Metrics.CountTxn();
        return ProtoMapper.ToProto(response, gateway.Header(response.Header.Revision, term));
    }

    public override async Task<EtcdPb.CompactionResponse> Compact(EtcdPb.CompactionRequest request, ServerCallContext context)
    {
        var compaction = new CompactionRequest { Revision = request.Revision, Physical = request.Physical };
        var (response, term) = NodeGateway.Outcome<CompactionResponse>(await SubmitAsync(request.CalculateSize(), MvccError.None, WriteCommand.Compaction(compaction), context).ConfigureAwait(false));
        return new EtcdPb.CompactionResponse { Header = gateway.Header(response.Header.Revision, term) };
    }

    /// <summary>
    /// Checks a write (hasleader, its validation, its size) and submits it; the caller awaits the result itself, so a
    /// call's path has one state machine fewer.
    /// </summary>
    private Task<WriteResult> SubmitAsync(int requestBytes, MvccError validation, WriteCommand command, ServerCallContext context)
    {
        gateway.RequireLeaderIfAsked(context);
        NodeGateway.ThrowIfFailed(validation);
        gateway.RequireRequestSize(requestBytes);
        return gateway.WriteAsync(command, context);
    }
}
