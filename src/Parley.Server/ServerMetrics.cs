using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics;
using System.Text;
using Google.Protobuf.Reflection;
using Parley.Node;
using Parley.Server.Grpc;
using Parley.Server.Peer;

namespace Parley.Server;

/// <summary>Counters and the Prometheus text exposition (format 0.0.4) with etcd's metric names.</summary>
internal sealed class ServerMetrics
{
    /// <summary>
    /// Services whose every method (unimplemented ones too) appears at 0 from the start, as go-grpc-prometheus
    /// initialises them in etcd; etcd registers Lock and Election after that, so theirs appear once first called.
    /// </summary>
    private static readonly (ServiceDescriptor Service, bool Initialised)[] Services =
    [
        (Etcdserverpb.KV.Descriptor, true), (Etcdserverpb.Watch.Descriptor, true), (Etcdserverpb.Lease.Descriptor, true),
        (Etcdserverpb.Cluster.Descriptor, true), (Etcdserverpb.Maintenance.Descriptor, true), (Etcdserverpb.Auth.Descriptor, true),
        (global::Grpc.Health.V1.Health.Descriptor, true), (V3Lockpb.Lock.Descriptor, false), (V3Electionpb.Election.Descriptor, false),
    ];

    // Every method of the services above by its request path (/etcdserverpb.KV/Put), and by its label name.
    private readonly FrozenDictionary<string, GrpcMethodCounters> _grpcByPath;
    private readonly FrozenDictionary<string, GrpcMethodCounters> _grpcByName;
    // Calls to any other path (not routed to a service of ours; kept for completeness), by label name.
    private readonly ConcurrentDictionary<string, GrpcMethodCounters> _grpcOther = new(StringComparer.Ordinal);
    private long _puts;
    private long _deletes;
    private long _ranges;
    private long _txns;
    private long _watchStreams;
    private long _watchers;
    private long _walWriteBytes;

    public ServerMetrics()
    {
        var byName = new Dictionary<string, GrpcMethodCounters>(StringComparer.Ordinal);
        foreach (var (service, initialised) in Services)
        {
            foreach (var method in service.Methods)
            {
                var name = service.FullName + "/" + method.Name;
                var type = (method.IsClientStreaming, method.IsServerStreaming) switch
                {
                    (true, true) => "bidi_stream",
                    (true, false) => "client_stream",
                    (false, true) => "server_stream",
                    _ => "unary",
                };
                byName[name] = new GrpcMethodCounters(name, type, initialised);
            }
        }
        _grpcByName = byName.ToFrozenDictionary(StringComparer.Ordinal);
        _grpcByPath = byName.ToFrozenDictionary(pair => "/" + pair.Key, pair => pair.Value, StringComparer.Ordinal);
    }

    /// <summary>etcd_disk_wal_fsync_duration_seconds: each WAL fdatasync, timed in Parley.Storage.</summary>
    public MetricHistogram WalFsync { get; } = new(MetricHistogram.DiskBounds);

    /// <summary>
    /// etcd_disk_backend_commit_duration_seconds. etcd commits applied writes to its bolt backend in batches; Parley's
    /// keyspace is in memory and made durable by the WAL and by keyspace snapshots, so it times what stands in for that
    /// commit: applying one batch of committed entries (one Ready) to the keyspace, and capturing the keyspace for a
    /// snapshot (the capture on the node loop; the file is written on another thread, <see cref="SnapshotSave"/>).
    /// </summary>
    public MetricHistogram BackendCommit { get; } = new(MetricHistogram.DiskBounds);

    /// <summary>etcd_debugging_snap_save_total_duration_seconds: writing one keyspace snapshot file (serialised, written, fsynced) on its own thread.</summary>
    public MetricHistogram SnapshotSave { get; } = new(MetricHistogram.DiskBounds);

    public void WalSynced(TimeSpan duration, long bytes)
    {
        WalFsync.Observe(duration);
        Interlocked.Add(ref _walWriteBytes, bytes);
    }

    public void CountPut() => Interlocked.Increment(ref _puts);

    public void CountDelete() => Interlocked.Increment(ref _deletes);

    public void CountRange() => Interlocked.Increment(ref _ranges);

    public void CountTxn() => Interlocked.Increment(ref _txns);

    public void WatchStreamOpened() => Interlocked.Increment(ref _watchStreams);

    public void WatchStreamClosed() => Interlocked.Decrement(ref _watchStreams);

    public void WatchersAdded(int count) => Interlocked.Add(ref _watchers, count);

    public void WatchersRemoved(int count) => Interlocked.Add(ref _watchers, -count);

    /// <summary>The counters of the gRPC method at request path <paramref name="path"/> (ServerCallContext.Method).</summary>
    public GrpcMethodCounters GrpcMethod(string path)
    {
        if (_grpcByPath.TryGetValue(path, out var counters))
        {
            return counters;
        }
        var name = path.TrimStart('/');
        return _grpcByName.TryGetValue(name, out counters) ? counters : _grpcOther.GetOrAdd(name, key => new GrpcMethodCounters(key, "unary", false));
    }

    public string Render(NodeStatus status, ServerOptions options, MemberDirectory directory, PeerMetrics peers)
    {
        var text = new StringBuilder(8192);
        Gauge(text, "etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.", status.HasLeader ? 1 : 0);
        Gauge(text, "etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.", status.IsLeader ? 1 : 0);
        Counter(text, "etcd_server_leader_changes_seen_total", "The number of leader changes seen.", status.LeaderChanges);
        Gauge(text, "etcd_server_proposals_committed_total", "The total number of consensus proposals committed.", status.CommitIndex);
        Gauge(text, "etcd_server_proposals_applied_total", "The total number of consensus proposals applied.", status.AppliedIndex);
        Gauge(text, "etcd_server_proposals_pending", "The current number of pending proposals to commit.", status.PendingRequests);
        Counter(text, "etcd_server_proposals_failed_total", "The total number of failed proposals seen.", status.ProposalsFailed);
        Gauge(text, "etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.", options.QuotaBackendBytes);
        Gauge(text, "etcd_server_is_learner", "Whether or not this member is a learner. 1 if is, 0 otherwise.", status.Learners.Contains(status.MemberId) ? 1 : 0);
        Header(text, "etcd_server_id", "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.", "gauge");
        Line(text, $"etcd_server_id{{server_id=\"{status.MemberId:x}\"}}", 1);
        Header(text, "etcd_server_version", "Which version is running. 1 for 'server_version' label with current version.", "gauge");
        Line(text, "etcd_server_version{server_version=\"3.4.23\"}", 1);
        Header(text, "etcd_cluster_version", "Which version is running. 1 for 'cluster_version' label with current cluster version", "gauge");
        Line(text, "etcd_cluster_version{cluster_version=\"3.4\"}", 1);
        Histogram(text, "etcd_disk_wal_fsync_duration_seconds", "The latency distributions of fsync called by WAL.", WalFsync);
        Histogram(text, "etcd_disk_backend_commit_duration_seconds", "The latency distributions of commit called by backend.", BackendCommit);
        Histogram(text, "etcd_debugging_snap_save_total_duration_seconds", "The total latency distributions of save called by snapshot.", SnapshotSave);
        Gauge(text, "etcd_disk_wal_write_bytes_total", "Total number of bytes written in WAL.", Interlocked.Read(ref _walWriteBytes));
        Gauge(text, "etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.", status.StoredBytes);
        Gauge(text, "etcd_mvcc_db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes.", status.StoredBytes);
        Counter(text, "etcd_mvcc_put_total", "Total number of puts seen by this member.", Interlocked.Read(ref _puts));
        Counter(text, "etcd_mvcc_delete_total", "Total number of deletes seen by this member.", Interlocked.Read(ref _deletes));
        Counter(text, "etcd_mvcc_range_total", "Total number of ranges seen by this member.", Interlocked.Read(ref _ranges));
        Counter(text, "etcd_mvcc_txn_total", "Total number of txns seen by this member.", Interlocked.Read(ref _txns));
        Gauge(text, "etcd_debugging_mvcc_keys_total", "Total number of keys.", status.KeyCount);
        Gauge(text, "etcd_debugging_mvcc_current_revision", "The current revision of store.", status.Revision);
        Gauge(text, "etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.", status.CompactRevision);
        Gauge(text, "etcd_debugging_mvcc_watch_stream_total", "Total number of watch streams.", Interlocked.Read(ref _watchStreams));
        Gauge(text, "etcd_debugging_mvcc_watcher_total", "Total number of watchers.", Interlocked.Read(ref _watchers));
        PeerCounters(text, peers, directory);
        GrpcCounters(text);
        ProcessMetrics(text);
        RuntimeMetrics(text);
        return text.ToString();
    }

    private void GrpcCounters(StringBuilder text)
    {
        var methods = _grpcByName.Values.Concat(_grpcOther.Values).OrderBy(counters => counters.Name, StringComparer.Ordinal).ToList();
        Header(text, "grpc_server_started_total", "Total number of RPCs started on the server.", "counter");
        foreach (var counters in methods)
        {
            var started = counters.StartedCount;
            if (started > 0 || counters.ListedFromStart)
            {
                Line(text, $"grpc_server_started_total{{{GrpcLabels(counters)}}}", started);
            }
        }
        Header(text, "grpc_server_handled_total", "Total number of RPCs completed on the server, regardless of success or failure.", "counter");
        foreach (var counters in methods)
        {
            foreach (var (code, count) in counters.HandledCounts())
            {
                Line(text, $"grpc_server_handled_total{{grpc_code=\"{code}\",{GrpcLabels(counters)}}}", count);
            }
        }
    }

    private static string GrpcLabels(GrpcMethodCounters counters)
    {
        var method = counters.Name;
        var slash = method.IndexOf('/', StringComparison.Ordinal);
        var service = slash < 0 ? method : method[..slash];
        var name = slash < 0 ? "" : method[(slash + 1)..];
        return $"grpc_method=\"{name}\",grpc_service=\"{service}\",grpc_type=\"{counters.Type}\"";
    }

    private static void PeerCounters(StringBuilder text, PeerMetrics peers, MemberDirectory directory)
    {
        Header(text, "etcd_network_peer_sent_bytes_total", "The total number of bytes sent to peers.", "counter");
        foreach (var (peer, bytes) in peers.SentBytes)
        {
            Line(text, $"etcd_network_peer_sent_bytes_total{{To=\"{peer:x}\"}}", bytes);
        }
        Header(text, "etcd_network_peer_received_bytes_total", "The total number of bytes received from peers.", "counter");
        foreach (var (peer, bytes) in peers.ReceivedBytes)
        {
            Line(text, $"etcd_network_peer_received_bytes_total{{From=\"{peer:x}\"}}", bytes);
        }
        Header(text, "etcd_network_peer_sent_failures_total", "The total number of send failures from peers.", "counter");
        foreach (var (peer, failures) in peers.SentFailures)
        {
            Line(text, $"etcd_network_peer_sent_failures_total{{To=\"{peer:x}\"}}", failures);
        }
        Header(text, "etcd_network_peer_received_failures_total", "The total number of receive failures from peers.", "counter");
        foreach (var (peer, failures) in peers.ReceiveFailures)
        {
            Line(text, $"etcd_network_peer_received_failures_total{{From=\"{peer:x}\"}}", failures);
        }
        const string RoundTrip = "etcd_network_peer_round_trip_time_seconds";
        Header(text, RoundTrip, "Round-Trip-Time histogram between peers", "histogram");
        foreach (var (peer, histogram) in peers.RoundTrips.OrderBy(pair => pair.Key))
        {
            histogram.Render(text, RoundTrip, $"To=\"{peer:x}\"");
        }
        Header(text, "etcd_network_active_peers", "The current number of active peer connections.", "gauge");
        foreach (var (peer, active) in peers.Active)
        {
            Line(text, $"etcd_network_active_peers{{Local=\"{directory.SelfId:x}\",Remote=\"{peer:x}\"}}", active ? 1 : 0);
        }
    }

    private static void ProcessMetrics(StringBuilder text)
    {
        using var process = Process.GetCurrentProcess();
        Gauge(text, "process_resident_memory_bytes", "Resident memory size in bytes.", process.WorkingSet64);
        Gauge(text, "process_virtual_memory_bytes", "Virtual memory size in bytes.", process.VirtualMemorySize64);
        Counter(text, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", process.TotalProcessorTime.TotalSeconds);
        Gauge(text, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
            new DateTimeOffset(process.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0);
        Gauge(text, "process_open_fds", "Number of open file descriptors.", process.HandleCount);
    }

    /// <summary>The .NET runtime's JIT and GC, named as OpenTelemetry's .NET runtime metrics are in Prometheus.</summary>
    private static void RuntimeMetrics(StringBuilder text)
    {
        // the JIT recompiles hot methods, optimised, during a member's first tens of seconds under load (tiered compilation)
        Counter(text, "dotnet_jit_compilation_time_seconds_total", "Time the JIT compiler has spent compiling methods.", System.Runtime.JitInfo.GetCompilationTime().TotalSeconds);
        Counter(text, "dotnet_jit_compiled_methods_total", "Methods the JIT compiler has compiled (each tier counts).", System.Runtime.JitInfo.GetCompiledMethodCount());
        Counter(text, "dotnet_gc_pause_time_seconds_total", "Time the GC has paused the process.", GC.GetTotalPauseDuration().TotalSeconds);
        Counter(text, "dotnet_gc_heap_total_allocated_bytes_total", "Bytes allocated on the managed heap since the process started.", GC.GetTotalAllocatedBytes());
        const string Collections = "dotnet_gc_collections_total";
        Header(text, Collections, "Garbage collections by the heap generation they collected.", "counter");
        for (var generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            // GC.CollectionCount(n) counts collections of generation n or above; each collection is counted at its highest generation
            var count = GC.CollectionCount(generation) - (generation < GC.MaxGeneration ? GC.CollectionCount(generation + 1) : 0);
            Line(text, $"{Collections}{{gc_heap_generation=\"gen{generation}\"}}", count);
        }
    }

    private static void Histogram(StringBuilder text, string name, string help, MetricHistogram histogram)
    {
        Header(text, name, help, "histogram");
        histogram.Render(text, name, "");
    }

    private static void Gauge(StringBuilder text, string name, string help, double value)
    {
        Header(text, name, help, "gauge");
        Line(text, name, value);
    }

    private static void Counter(StringBuilder text, string name, string help, double value)
    {
        Header(text, name, help, "counter");
        Line(text, name, value);
    }

    private static void Header(StringBuilder text, string name, string help, string type) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Line(StringBuilder text, string series, double value) =>
        text.Append(series).Append(' ').Append(MetricHistogram.Number(value)).Append('\n');
}
