using System.Globalization;
using Grpc.Core;
using Parley.Node;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Grpc;

/// <summary>etcdserverpb.Maintenance: Status, Hash, HashKV, Alarm (no alarm is raised yet), Defragment (a no-op).</summary>
internal sealed class MaintenanceService(NodeGateway gateway) : EtcdPb.Maintenance.MaintenanceBase
{
    public const string EtcdVersion = "3.4.23";

    public override async Task<EtcdPb.StatusResponse> Status(EtcdPb.StatusRequest request, ServerCallContext context)
    {
        var status = await gateway.QueryAsync(node => node.GetStatus()).ConfigureAwait(false);
        var response = new EtcdPb.StatusResponse
        {
            Header = gateway.Header(status.Revision, status.Term),
            Version = EtcdVersion,
            DbSize = status.StoredBytes,
            DbSizeInUse = status.StoredBytes,
            Leader = status.Leader,
            RaftIndex = status.CommitIndex,
            RaftTerm = status.Term,
            RaftAppliedIndex = status.AppliedIndex,
            IsLearner = status.Learners.Contains(status.MemberId),
        };
        if (!status.HasLeader)
        {
            response.Errors.Add(NodeErrors.Message(NodeError.NoLeader));
        }
        return response;
    }

    public override async Task<EtcdPb.HashResponse> Hash(EtcdPb.HashRequest request, ServerCallContext context)
    {
        var (hash, revision, term) = await gateway.QueryAsync(node => (node.Store.HashKV(0), node.Store.Revision, node.Term)).ConfigureAwait(false);
        NodeGateway.ThrowIfFailed(hash.Error);
        return new EtcdPb.HashResponse { Header = gateway.Header(revision, term), Hash = hash.Value!.Hash };
    }

    public override async Task<EtcdPb.HashKVResponse> HashKV(EtcdPb.HashKVRequest request, ServerCallContext context)
    {
        var (hash, revision, term) = await gateway.QueryAsync(node => (node.Store.HashKV(request.Revision), node.Store.Revision, node.Term)).ConfigureAwait(false);
        NodeGateway.ThrowIfFailed(hash.Error);
        return new EtcdPb.HashKVResponse
        {
            Header = gateway.Header(revision, term),
            Hash = hash.Value!.Hash,
            CompactRevision = hash.Value.CompactRevision,
        };
    }

    public override Task<EtcdPb.AlarmResponse> Alarm(EtcdPb.AlarmRequest request, ServerCallContext context) =>
        Task.FromResult(new EtcdPb.AlarmResponse());

    public override Task<EtcdPb.DefragmentResponse> Defragment(EtcdPb.DefragmentRequest request, ServerCallContext context) =>
        Task.FromResult(new EtcdPb.DefragmentResponse());

    public static string FormatId(ulong id) => id.ToString("x", CultureInfo.InvariantCulture);
}
