using System.Globalization;
using Grpc.Core;
using Parley.Mvcc;
using Parley.Node;
using Parley.Server.Backup;
using EtcdPb = Etcdserverpb;

namespace Parley.Server.Grpc;

/// <summary>etcdserverpb.Maintenance: Status, Hash, HashKV, Alarm (list, raise, disarm through Raft), Defragment (snapshot now, release WAL), Snapshot, MoveLeader.</summary>
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
        foreach (var alarm in status.Alarms)
        {
            response.Errors.Add(AlarmText(alarm)); // etcd's protobuf text form of AlarmMember, trailing space included
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

    /// <summary>Every action goes through Raft, as in etcd 3.4; the response has no header (3.4 sends none).</summary>
    public override async Task<EtcdPb.AlarmResponse> Alarm(EtcdPb.AlarmRequest request, ServerCallContext context)
    {
        var alarm = new AlarmRequest { Action = (AlarmAction)request.Action, MemberId = request.MemberID, Alarm = (AlarmType)request.Alarm };
        if (!Enum.IsDefined(alarm.Action) || !Enum.IsDefined(alarm.Alarm))
        {
            return new EtcdPb.AlarmResponse(); // etcd's applier does nothing for an action or alarm it does not know
        }
        var (response, _) = await gateway.WriteOrThrowAsync<AlarmResponse>(WriteCommand.Alarm(alarm), context).ConfigureAwait(false);
        var proto = new EtcdPb.AlarmResponse();
        foreach (var member in response.Alarms)
        {
            proto.Alarms.Add(new EtcdPb.AlarmMember { MemberID = member.MemberId, Alarm = (EtcdPb.AlarmType)member.Alarm });
        }
        return proto;
    }

    public static string AlarmText(AlarmMember alarm) =>
        $"memberID:{alarm.MemberId.ToString(CultureInfo.InvariantCulture)} alarm:{AlarmName(alarm.Alarm)} ";

    /// <summary>etcd's name of an alarm type (as etcdctl prints it and /health?exclude= takes it).</summary>
    public static string AlarmName(AlarmType alarm) => alarm switch
    {
        AlarmType.NoSpace => "NOSPACE",
        AlarmType.Corrupt => "CORRUPT",
        _ => "NONE",
    };

    /// <summary>etcd's MoveLeader: only the leader hands over, to a voter; answers once the target leads (no header in 3.4).</summary>
    public override async Task<EtcdPb.MoveLeaderResponse> MoveLeader(EtcdPb.MoveLeaderRequest request, ServerCallContext context)
    {
        await gateway.MembershipAsync((node, done) => node.TransferLeadership(request.TargetID, done)).ConfigureAwait(false);
        return new EtcdPb.MoveLeaderResponse();
    }

    /// <summary>
    /// A consistent copy of this member's keyspace as of its last applied entry (etcd's is of its own backend too: no
    /// read barrier), captured on the node loop in one turn (one pass over the keys), then serialized, framed as a <see cref="BackupFile"/> and streamed as
    /// etcd does (<see cref="BackupStream"/>) off the loop. No header: 3.4 sends none.
    /// </summary>
    public override async Task Snapshot(EtcdPb.SnapshotRequest request, IServerStreamWriter<EtcdPb.SnapshotResponse> responseStream, ServerCallContext context)
    {
        KeyspaceSnapshot snapshot;
        try
        {
            var capture = await gateway.QueryAsync(node => node.CaptureKeyspace()).ConfigureAwait(false);
            snapshot = capture.Write(); // serialized here, off the loop
        }
        catch (NodeUnavailableException exception)
        {
            throw NodeGateway.Failure(exception.Error);
        }
        var body = BackupFile.Build(snapshot, gateway.Directory.ClusterId, gateway.Directory.SelfId);
        foreach (var response in BackupStream.Responses(body))
        {
            await responseStream.WriteAsync(response, context.CancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// etcd's Defragment gives the backend's free pages back to the file system. Parley's disk holds the WAL and
    /// snapshot files, so the equivalent is to snapshot now and release the WAL segments the snapshot covers
    /// (<see cref="ClusterNode.CompactStorage"/>). One turn of the node loop, like a scheduled snapshot.
    /// </summary>
    public override async Task<EtcdPb.DefragmentResponse> Defragment(EtcdPb.DefragmentRequest request, ServerCallContext context)
    {
        try
        {
            await gateway.QueryAsync(node => node.CompactStorage()).ConfigureAwait(false);
        }
        catch (NodeUnavailableException exception)
        {
            throw NodeGateway.Failure(exception.Error);
        }
        return new EtcdPb.DefragmentResponse();
    }

    public static string FormatId(ulong id) => id.ToString("x", CultureInfo.InvariantCulture);
}
