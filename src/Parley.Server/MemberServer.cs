using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Mvcc;
using Parley.Node;
using Parley.Server.Auth;
using Parley.Server.Grpc;
using Parley.Server.Peer;
using Parley.Storage;

namespace Parley.Server;

/// <summary>
/// One running member: its data directory, the node loop thread, the peer transport, and Kestrel serving gRPC and
/// HTTP on the client port(s). <see cref="StartAsync"/> brings it up; <see cref="StopAsync"/> stops accepting,
/// fails what still waits ("server stopped"), and closes the WAL.
/// </summary>
public sealed partial class MemberServer : IAsyncDisposable
{
    private readonly ServerOptions _options;
    private readonly MemberStorage _storage;
    private readonly PeerTransport _transport;
    private readonly NodeLoop _loop;
    private readonly WebApplication _app;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _removedSaid;
    private int _stopped;

    private MemberServer(ServerOptions options, MemberDirectory directory, MemberStorage storage, PeerTransport transport, NodeLoop loop, WebApplication app, ILogger logger)
    {
        _options = options;
        Directory = directory;
        _storage = storage;
        _transport = transport;
        _loop = loop;
        _app = app;
        _logger = logger;
    }

    internal MemberDirectory Directory { get; }

    public ulong MemberId => Directory.SelfId;

    public ulong ClusterId => Directory.ClusterId;

    public NodeStatus Status => _loop.Status;

    /// <summary>Completes when the member stopped on its own because of a fatal error (its exception).</summary>
    public Task Failed => _failed.Task;

    public static async Task<MemberServer> StartAsync(ServerOptions options, CancellationToken cancellation = default)
    {
        // The content root is the program's folder, not the working directory, and configuration files are not
        // watched: ASP.NET would otherwise watch the working directory recursively (for appsettings.json), and with
        // the data directory inside it every WAL write wakes a file watcher (measured: about 5% of a member's CPU).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        ConfigureLogging(builder.Logging, options);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(3));
        var loggerFactory = LoggerFactory.Create(logging => ConfigureLogging(logging, options));
        var logger = loggerFactory.CreateLogger("parley");
        var directory = await ResolveMembershipAsync(options, logger, cancellation).ConfigureAwait(false);
        directory.MarkStarted(directory.SelfId, options.Name, options.AdvertiseClientUrls.Select(MemberIdentity.Normalize).ToArray());
        // The gRPC series are built from the services' protobuf descriptors, a few hundred milliseconds of one core at
        // start-up: built on another thread while this one reads the WAL and the snapshot and restores the keyspace.
        var metricsBuilding = Task.Run(() => new ServerMetrics(), CancellationToken.None);
        ServerMetrics? syncMetrics = null; // until built, a sync (only a repaired WAL tail syncs during recovery) goes untimed
        var storageOptions = new StorageOptions
        {
            SyncTimer = new WalSyncTimer(TimeProvider.System, (duration, bytes) => syncMetrics?.WalSynced(duration, bytes)),
            PrepareSegmentsAhead = true,
            ReadSnapshotAlongsideWal = true,
        };
        var opening = Stopwatch.GetTimestamp();
        var storage = MemberStorage.Open(new RealFileSystem(), Path.GetFullPath(options.DataDirectory), new StorageIdentity(directory.ClusterId, directory.SelfId), storageOptions);
        var storageOpened = Stopwatch.GetTimestamp();
        var (recoveredSnapshotIndex, recoveredEntries) = (storage.Recovered.Snapshot.Metadata.Index, storage.Recovered.Entries.Count);
        foreach (var note in storage.Recovered.Notes)
        {
            LogRecoveryNote(logger, note);
        }
        PeerTransport? transport = null;
        NodeLoop? loop = null;
        try
        {
            transport = new PeerTransport(options, directory, logger);
            transport.Bind();
            var ticks = options.ElectionTimeoutMs / options.HeartbeatIntervalMs;
            var nodeOptions = new NodeOptions
            {
                MemberId = directory.SelfId,
                InitialVoters = options.InitialClusterState == "new" ? directory.Members.Select(member => member.Id).ToArray() : [],
                InitialPeerUrls = directory.Members.ToDictionary(member => member.Id, member => (IReadOnlyList<string>)member.PeerUrls),
                ElectionTimeoutTicks = ticks,
                HeartbeatIntervalTicks = 1,
                RequestTimeoutTicks = (5000 + 2 * options.ElectionTimeoutMs) / options.HeartbeatIntervalMs,
                SnapshotCountEntries = options.SnapshotCount,
                TickIntervalMs = options.HeartbeatIntervalMs,
                LeaseCheckpointIntervalTicks = (int)Math.Clamp(options.LeaseCheckpointInterval.TotalMilliseconds / options.HeartbeatIntervalMs, 1, int.MaxValue),
                UnsafeStaleLocalReads = options.UnsafeInjectBug == "stale-read",
                SyncOffLoop = options.WalSyncOffLoop,
                AutoCompactionMode = options.AutoCompactionPeriod > TimeSpan.Zero ? AutoCompactionMode.Periodic
                    : options.AutoCompactionRevisions > 0 ? AutoCompactionMode.Revision
                    : AutoCompactionMode.Off,
                AutoCompactionRetention = options.AutoCompactionPeriod > TimeSpan.Zero
                    ? (long)Math.Max(1, Math.Ceiling(options.AutoCompactionPeriod.TotalMilliseconds / options.HeartbeatIntervalMs))
                    : options.AutoCompactionRevisions,
                AutoCompactionRevisionIntervalTicks = Math.Max(1, 300_000 / options.HeartbeatIntervalMs),
            };
            var seed = options.RandomSeed != 0 ? options.RandomSeed : RandomNumberGenerator.GetInt32(int.MaxValue);
            var node = new ClusterNode(nodeOptions, storage, transport, new Random(seed));
            var (readMs, restoreMs) = (Stopwatch.GetElapsedTime(opening, storageOpened).TotalMilliseconds, Stopwatch.GetElapsedTime(storageOpened).TotalMilliseconds);
            if (recoveredSnapshotIndex > 0)
            {
                LogRecoveredFromSnapshot(logger, recoveredSnapshotIndex, node.Store.KeyCount, node.Store.Revision, recoveredEntries, readMs, restoreMs);
            }
            else if (recoveredEntries > 0)
            {
                LogRecoveredFromLog(logger, recoveredEntries, readMs);
            }
            var metrics = await metricsBuilding.ConfigureAwait(false);
            syncMetrics = metrics;
            void FollowMembership()
            {
                directory.UpdateRemoved(node.Store.RemovedMembers);
                transport.UpdateMembers(directory.Update(node.Members));
            }
            FollowMembership();
            node.MembersChanged = FollowMembership;
            MemberServer? server = null;
            loop = new NodeLoop(node, TimeSpan.FromMilliseconds(options.HeartbeatIntervalMs), logger, exception => server?.OnFatal(exception),
                () => server?.OnRemoved(), options.IdleTurnsOnCallers);
            node.SnapshotWorker = new BackgroundSnapshotWorker(loop, metrics.SnapshotSave.Observe);
            if (nodeOptions.SyncOffLoop)
            {
                var walSyncer = new WalSyncThread(loop);
                loop.Own(walSyncer); // stopped with the loop, before the storage is closed
                node.WalSyncer = walSyncer;
            }
            node.AutoCompactionStarting = revision => LogAutoCompactionStarting(logger, revision, RetentionText(options));
            node.AutoCompactionFinished = (revision, error) =>
            {
                if (error is null)
                {
                    LogAutoCompactionFinished(logger, revision);
                }
                else
                {
                    LogAutoCompactionFailed(logger, revision, error);
                }
            };
            long backendCommitStarted = 0;
            node.BackendCommitStarting = () => backendCommitStarted = Stopwatch.GetTimestamp();
            node.BackendCommitFinished = () => metrics.BackendCommit.Observe(Stopwatch.GetElapsedTime(backendCommitStarted));
            var authGate = new AuthGate(() => loop.AuthState, new SimpleTokenStore(TimeSpan.FromSeconds(options.AuthTokenTtlSeconds), TimeProvider.System));
            node.Applied += (command, outcome) =>
            {
                if (command.Kind == WriteCommandKind.Auth)
                {
                    loop.PublishAuthState(); // before the request completes: the client's next call sees the change
                    authGate.OnApplied(command, outcome);
                }
            };
            var gateway = new NodeGateway(loop, directory, options, metrics, authGate);
            builder.Services.AddSingleton(gateway);
            builder.Services.AddSingleton(authGate);
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddSingleton(metrics);
            builder.Services.AddSingleton<ServerCallInterceptor>(); // one instance for all calls, not one made per call
            // The services hold no per-call state: registered, Grpc.AspNetCore takes them from the container instead of
            // constructing one per call through ActivatorUtilities.
            builder.Services.AddSingleton<KvService>();
            builder.Services.AddSingleton<ClusterService>();
            builder.Services.AddSingleton<MaintenanceService>();
            builder.Services.AddSingleton<HealthService>();
            builder.Services.AddSingleton<WatchService>();
            builder.Services.AddSingleton<LeaseService>();
            builder.Services.AddSingleton<LockService>();
            builder.Services.AddSingleton<ElectionService>();
            builder.Services.AddSingleton<AuthService>();
            builder.Services.AddGrpc(grpc =>
            {
                grpc.MaxReceiveMessageSize = MaxReceiveBytes(options);
                grpc.MaxSendMessageSize = null;
                grpc.EnableDetailedErrors = false;
                grpc.Interceptors.Add<ServerCallInterceptor>();
                // No catch-all routes for unknown services and methods: routing matched every call against them as well,
                // and captured their route values (two strings and a dictionary per call). UnknownGrpcCalls answers
                // those calls instead, after routing found nothing.
                grpc.IgnoreUnknownServices = true;
            });
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.AddServerHeader = false;
                kestrel.AllowAlternateSchemes = true; // sniffed h2c connections look like TLS to Kestrel; the client says "http"
                kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes + 512 * 1024;
                kestrel.Limits.Http2.MaxStreamsPerConnection = 1024;
                kestrel.Limits.Http2.KeepAlivePingDelay = TimeSpan.FromHours(2);
                kestrel.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(20);
                foreach (var url in options.ListenClientUrls)
                {
                    kestrel.Listen(PeerTransport.ListenAddress(url), url.Port, listen => listen.UseSniffing());
                }
                foreach (var url in options.ListenMetricsUrls)
                {
                    kestrel.Listen(PeerTransport.ListenAddress(url), url.Port, listen => listen.Protocols = HttpProtocols.Http1);
                }
            });
            var app = builder.Build();
            app.Use(LiftBodyLimitForGrpc);
            if (options.DirectUnaryCalls)
            {
                var direct = new DirectUnaryCalls(app.Services.GetRequiredService<KvService>(), app.Services.GetRequiredService<ServerCallInterceptor>(),
                    MaxReceiveBytes(options), logger);
                app.Use(direct.InvokeAsync);
            }
            app.UseRouting(); // here, not (as by default) first: the calls served above are not matched against the routes
            app.Use(new UnknownGrpcCalls(app).InvokeAsync);
            app.MapGrpcService<KvService>();
            app.MapGrpcService<ClusterService>();
            app.MapGrpcService<MaintenanceService>();
            app.MapGrpcService<HealthService>();
            app.MapGrpcService<WatchService>();
            app.MapGrpcService<LeaseService>();
            app.MapGrpcService<LockService>();
            app.MapGrpcService<ElectionService>();
            app.MapGrpcService<AuthService>();
            app.MapEtcdHttp(gateway, transport.Metrics);
            server = new MemberServer(options, directory, storage, transport, loop, app, logger);
            transport.RemovedFromCluster = server.OnRemoved;
            // How long the entries committed before a restart take to apply again (the last part of recovery, after the
            // restore above): logged once the loop has applied them.
            var applied = node.GetStatus().AppliedIndex;
            var recoveredCommit = storage.Recovered.RecoveredCommit;
            if (recoveredCommit > applied)
            {
                var replayStarted = Stopwatch.GetTimestamp();
                loop.WhenApplied(recoveredCommit, () => LogRecoveredLogApplied(logger, recoveredCommit - applied, recoveredCommit,
                    Stopwatch.GetElapsedTime(replayStarted).TotalMilliseconds));
            }
            transport.Start(loop.TryPost);
            loop.Start();
            await app.StartAsync(cancellation).ConfigureAwait(false);
            LogStarted(logger, options.Name, directory.SelfId, directory.ClusterId,
                string.Join(",", options.ListenClientUrls.Select(MemberIdentity.Normalize)),
                string.Join(",", options.ListenPeerUrls.Select(MemberIdentity.Normalize)), Path.GetFullPath(options.DataDirectory));
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_GCgen0size")))
            {
                LogDefaultGen0Budget(logger);
            }
            return server;
        }
        catch
        {
            loop?.Dispose();
            if (transport is not null)
            {
                await transport.DisposeAsync().ConfigureAwait(false);
            }
            storage.Dispose();
            throw;
        }
    }

    /// <summary>The largest gRPC message a member takes: --max-request-bytes and 512 KiB for the rest of the call (as etcd).</summary>
    private static int MaxReceiveBytes(ServerOptions options) => options.MaxRequestBytes + 512 * 1024;

    /// <summary>
    /// Kestrel's request body limit stays for HTTP/1.1 (the JSON endpoints); gRPC calls go without it, so that a
    /// message over the gRPC receive limit (max-request-bytes + 512 KiB) is refused by the gRPC layer with
    /// ResourceExhausted, as etcd's is, rather than failing inside Kestrel as an unknown error.
    /// </summary>
    private static Task LiftBodyLimitForGrpc(HttpContext context, RequestDelegate next)
    {
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true
            && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }
        return next(context);
    }

    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }
        LogStopping(_logger, _options.Name);
        // Stop taking connections; requests already inside get a short while to finish.
        var stopping = _app.StopAsync(CancellationToken.None);
        await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        _loop.Stop(); // whatever still waits fails with "etcdserver: server stopped"
        await stopping.ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
        _loop.Dispose();
        _storage.Dispose();
        await _app.DisposeAsync().ConfigureAwait(false);
        LogStopped(_logger, _options.Name);
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private void OnFatal(Exception exception) => _failed.TrySetResult();

    /// <summary>
    /// Said once, even when a fatal error stopped the member first (the node loop and a peer's refusal may both tell
    /// us): an operator reading the log must see that the member was removed, not only the error.
    /// </summary>
    private void OnRemoved()
    {
        if (Interlocked.Exchange(ref _removedSaid, 1) == 0)
        {
            LogRemoved(_logger, _options.Name, Directory.SelfId);
        }
        _failed.TrySetResult();
    }

    /// <summary>
    /// Which cluster and member this is. A data directory that has an identity keeps it (as etcd ignores the
    /// --initial-cluster flags once it has data); a new cluster's member computes ids from --initial-cluster; a member
    /// that joins a running cluster (--initial-cluster-state existing) asks the other members listed there for the
    /// cluster id and the id MemberAdd gave its peer URLs.
    /// </summary>
    private static async Task<MemberDirectory> ResolveMembershipAsync(ServerOptions options, ILogger logger, CancellationToken cancellation)
    {
        if (options.InitialClusterState == "new")
        {
            return MemberDirectory.ForNewCluster(options);
        }
        var initial = MemberDirectory.FromInitialCluster(options);
        var ownUrls = options.InitialCluster.Single(member => member.Name == options.Name).PeerUrls.Select(MemberIdentity.Normalize).ToArray();
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        if (System.IO.Directory.Exists(dataDirectory) && MemberStorage.ReadIdentity(new RealFileSystem(), dataDirectory) is { } stored)
        {
            return new MemberDirectory(stored.ClusterId, stored.MemberId, options.InitialClusterToken, initial);
        }
        var others = options.InitialCluster
            .Where(member => member.Name != options.Name)
            .SelectMany(member => member.PeerUrls)
            .ToArray();
        if (others.Length == 0)
        {
            throw new ServerOptionsException("--initial-cluster-state existing: --initial-cluster names no other member to join");
        }
        LogJoining(logger, options.Name, string.Join(",", others.Select(MemberIdentity.Normalize)));
        var (clusterId, members) = await PeerTransport.AskClusterAsync(others, ownUrls, TimeSpan.FromSeconds(30), cancellation).ConfigureAwait(false);
        var self = members.FirstOrDefault(member => member.PeerUrls.Intersect(ownUrls, StringComparer.Ordinal).Any())
            ?? throw new ServerOptionsException(
                $"--initial-cluster-state existing: the cluster has no member with peer URLs {string.Join(",", ownUrls)}; " +
                $"add it first: etcdctl member add {options.Name} --peer-urls={string.Join(",", ownUrls)}");
        return new MemberDirectory(clusterId, self.Id, options.InitialClusterToken, members);
    }

    private static void ConfigureLogging(ILoggingBuilder logging, ServerOptions options)
    {
        logging.ClearProviders();
        if (options.LogFormat == "json")
        {
            logging.AddJsonConsole(json => json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ");
        }
        else
        {
            logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss.fff ";
            });
        }
        var level = options.LogLevel switch
        {
            "debug" => LogLevel.Debug,
            "warn" => LogLevel.Warning,
            "error" => LogLevel.Error,
            "panic" or "fatal" => LogLevel.Critical,
            _ => LogLevel.Information,
        };
        logging.SetMinimumLevel(level);
        logging.AddFilter("Microsoft", level < LogLevel.Warning ? LogLevel.Warning : level);
        logging.AddFilter("Grpc", level < LogLevel.Warning ? LogLevel.Warning : level);
        // Kestrel warns that cleartext Http1AndHttp2 endpoints fall back to HTTP/1.1; ProtocolSniffer handles that.
        logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Error);
        // ASP.NET's hosting layer starts an Activity and a logging scope for every request whenever its category logs
        // at any level, even though it only writes request start/finish lines (Information, filtered above). Off, those
        // per-request objects are not made; it logs nothing else a member needs (start-up failures still throw).
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "the runtime's default young-generation budget is in use: put latency under load has longer GC pauses; the ./parley launcher sets DOTNET_GCgen0size=0x4000000 (64 MiB), which halved the put p99 (docs/benchmarks.md)")]
    private static partial void LogDefaultGen0Budget(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "member {Name} ({MemberId:x}) of cluster {ClusterId:x} serving clients on {ClientUrls}, peers on {PeerUrls}, data in {DataDirectory}")]
    private static partial void LogStarted(ILogger logger, string name, ulong memberId, ulong clusterId, string clientUrls, string peerUrls, string dataDirectory);

    [LoggerMessage(Level = LogLevel.Information, Message = "member {Name} joining an existing cluster: asking {PeerUrls}")]
    private static partial void LogJoining(ILogger logger, string name, string peerUrls);

    [LoggerMessage(Level = LogLevel.Error, Message = "member {Name} ({MemberId:x}) has been permanently removed from the cluster; stopping")]
    private static partial void LogRemoved(ILogger logger, string name, ulong memberId);

    [LoggerMessage(Level = LogLevel.Information, Message = "recovered: snapshot at index {SnapshotIndex} ({Keys} keys, revision {Revision}) and {Entries} log entries after it; WAL and snapshot read in {ReadMs:F0} ms, keyspace restored in {RestoreMs:F0} ms (committed entries are applied next)")]
    private static partial void LogRecoveredFromSnapshot(ILogger logger, ulong snapshotIndex, long keys, long revision, int entries, double readMs, double restoreMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "applied the {Entries} entries committed before the restart (through index {Index}) in {ApplyMs:F0} ms")]
    private static partial void LogRecoveredLogApplied(ILogger logger, ulong entries, ulong index, double applyMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "recovered: {Entries} log entries, no snapshot yet; WAL read in {ReadMs:F0} ms (committed entries are applied next)")]
    private static partial void LogRecoveredFromLog(ILogger logger, int entries, double readMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "recovery: {Note}")]
    private static partial void LogRecoveryNote(ILogger logger, string note);

    private static string RetentionText(ServerOptions options)
    {
        var period = options.AutoCompactionPeriod;
        if (period <= TimeSpan.Zero)
        {
            return $"{options.AutoCompactionRevisions} revisions";
        }
        var text = (period.Days * 24 + period.Hours > 0 ? $"{period.Days * 24 + period.Hours}h" : "")
            + (period.Minutes > 0 ? $"{period.Minutes}m" : "")
            + (period.Seconds > 0 ? $"{period.Seconds}s" : "")
            + (period.Milliseconds > 0 ? $"{period.Milliseconds}ms" : "");
        return text.Length > 0 ? text : period.ToString();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "starting auto-compaction at revision {Revision} (retention: {Retention})")]
    private static partial void LogAutoCompactionStarting(ILogger logger, long revision, string retention);

    [LoggerMessage(Level = LogLevel.Information, Message = "finished auto-compaction at revision {Revision}")]
    private static partial void LogAutoCompactionFinished(ILogger logger, long revision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "auto-compaction at revision {Revision} failed ({Error}); it is tried again")]
    private static partial void LogAutoCompactionFailed(ILogger logger, long revision, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "member {Name} stopping")]
    private static partial void LogStopping(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "member {Name} stopped; WAL closed")]
    private static partial void LogStopped(ILogger logger, string name);
}
