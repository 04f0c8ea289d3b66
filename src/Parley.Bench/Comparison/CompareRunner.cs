using System.Diagnostics;
using System.Globalization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Parley.Bench.Comparison;

/// <summary>
/// <c>bench compare</c>: starts a fresh etcd cluster and a fresh Parley cluster side by side, runs each workload
/// on one then the other (alternating which goes first), then the put sweep, then (optionally) the memory and
/// restart measurements. Both clusters are stopped and their directories deleted however the run ends.
/// </summary>
public sealed class CompareRunner
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan RestartTimeout = TimeSpan.FromSeconds(120);
    private const int MemoryLoadClients = 32;
    private const int MemorySettleMilliseconds = 3000;

    private readonly CompareOptions _options;
    private readonly Action<string> _log;
    private readonly bool _interactive;

    public CompareRunner(CompareOptions options, Action<string> log, bool interactive)
    {
        _options = options;
        _log = log;
        _interactive = interactive;
    }

    public async Task<CompareResult> RunAsync(string commandLine, CancellationToken cancellationToken)
    {
        var result = new CompareResult
        {
            StartedUtc = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            Command = commandLine,
            Machine = new MachineInfo(Environment.ProcessorCount, LoadAverage(), null, System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription),
            Members = _options.Members,
        };
        var etcdCommand = ServerCommand.Etcd(_options.EtcdPath);
        if (!File.Exists(etcdCommand.FileName))
        {
            throw new BenchOptionsException($"etcd not found at {etcdCommand.FileName} (Debian: apt-get install etcd-server; or pass --etcd PATH)");
        }
        var parleyCommand = ServerCommand.Parley(_options.ParleyPath);
        using var etcd = BenchCluster.Create(ServerKind.Etcd, _options.Members, etcdCommand);
        using var parley = BenchCluster.Create(ServerKind.Parley, _options.Members, parleyCommand);
        using var cleanup = new ClusterCleanup(etcd, parley);
        try
        {
            _log($"starting {_options.Members}-member etcd ({etcdCommand.FileName}) and Parley ({string.Join(" ", parleyCommand.LeadingArguments.Prepend(parleyCommand.FileName))}) clusters");
            etcd.Start();
            parley.Start();
            await Task.WhenAll(etcd.WaitReadyAsync(ReadyTimeout, cancellationToken), parley.WaitReadyAsync(ReadyTimeout, cancellationToken)).ConfigureAwait(false);
            _log($"etcd serving on {string.Join(",", etcd.Endpoints)}; Parley serving on {string.Join(",", parley.Endpoints)}");
            await RunWorkloadsAsync(result, etcd, parley, cancellationToken).ConfigureAwait(false);
            await RunSweepAsync(result, etcd, parley, cancellationToken).ConfigureAwait(false);
            if (_options.MemoryKeys > 0)
            {
                result.Memory = await MeasureMemoryAsync(etcd, parley, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            result.Cancelled = true;
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException or RpcException or BenchOptionsException or IOException)
        {
            result.Error = exception.Message;
        }
        finally
        {
            result.Machine.LoadAverageAtEnd = LoadAverage();
            _log("stopping both clusters");
        }
        result.Targets.AddRange(TargetEvaluator.Evaluate(result, _options));
        return result;
    }

    private async Task RunWorkloadsAsync(CompareResult result, BenchCluster etcd, BenchCluster parley, CancellationToken cancellationToken)
    {
        var preloaded = new HashSet<ServerKind>();
        for (var i = 0; i < _options.Workloads.Count; i++)
        {
            var workload = _options.Workloads[i];
            var order = i % 2 == 0 ? new[] { etcd, parley } : [parley, etcd];
            var runs = new Dictionary<ServerKind, ServerRun>();
            foreach (var cluster in order)
            {
                if (WorkloadNames.NeedsPreload(workload) && preloaded.Add(cluster.Kind))
                {
                    await PreloadAsync(cluster, cancellationToken).ConfigureAwait(false);
                }
                runs[cluster.Kind] = await MeasureAsync(cluster, workload, _options.Clients, cancellationToken).ConfigureAwait(false);
            }
            result.Workloads.Add(new WorkloadComparison(WorkloadNames.Name(workload), _options.Clients, runs[ServerKind.Etcd], runs[ServerKind.Parley]));
        }
    }

    private async Task RunSweepAsync(CompareResult result, BenchCluster etcd, BenchCluster parley, CancellationToken cancellationToken)
    {
        for (var i = 0; i < _options.Sweep.Count; i++)
        {
            var clients = _options.Sweep[i];
            var measured = result.Workloads.FirstOrDefault(run => run.Workload == WorkloadNames.Name(Workload.Put) && run.Clients == clients);
            if (measured is not null)
            {
                result.Sweep.Add(measured);
                continue;
            }
            var order = i % 2 == 0 ? new[] { parley, etcd } : [etcd, parley];
            var runs = new Dictionary<ServerKind, ServerRun>();
            foreach (var cluster in order)
            {
                runs[cluster.Kind] = await MeasureAsync(cluster, Workload.Put, clients, cancellationToken).ConfigureAwait(false);
            }
            result.Sweep.Add(new WorkloadComparison(WorkloadNames.Name(Workload.Put), clients, runs[ServerKind.Etcd], runs[ServerKind.Parley]));
        }
    }

    private async Task PreloadAsync(BenchCluster cluster, CancellationToken cancellationToken)
    {
        var options = _options.BenchOptionsFor(Workload.Get, MemoryLoadClients, cluster.Endpoints) with { Preload = true };
        using var runner = new BenchRunner(options);
        await runner.ConnectAsync(cancellationToken).ConfigureAwait(false);
        await ShowAsync(runner.Progress, $"{cluster.Name}: preloading {_options.KeyCount:#,0} keys", async () =>
        {
            await runner.PreloadAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }).ConfigureAwait(false);
    }

    private async Task<ServerRun> MeasureAsync(BenchCluster cluster, Workload workload, int clients, CancellationToken cancellationToken)
    {
        EnsureRunning(cluster);
        var endpoints = await LeaderFirstAsync(cluster, cancellationToken).ConfigureAwait(false);
        var options = _options.BenchOptionsFor(workload, clients, _options.TargetLeader ? endpoints.Take(1).ToArray() : endpoints);
        using var runner = new BenchRunner(options);
        await runner.ConnectAsync(cancellationToken).ConfigureAwait(false);
        var serverCpuBefore = 0.0;
        var name = WorkloadNames.Name(workload);
        var steadyState = new SteadyState();
        var steadiness = _options.AdaptiveWarmup
            ? await steadyState.PlanAsync(cluster.CpuSeconds, cluster.JitMethodsAsync, CompareOptions.WarmupWindow, _options.WarmupMaximum, cancellationToken).ConfigureAwait(false)
            : null;
        var result = await ShowAsync(runner.Progress, $"{cluster.Name}: {name}, {clients} clients", () => runner.RunAsync(cancellationToken, measuring: () =>
        {
            // CPU counts from the end of the warm-up: its work (and a JIT's first compilations) is not the measured phase's
            serverCpuBefore = cluster.CpuSeconds();
        }, steadiness)).ConfigureAwait(false);
        var serverCpu = cluster.CpuSeconds() - serverCpuBefore;
        var clientCpu = result.ClientCpuSeconds ?? 0;
        cancellationToken.ThrowIfCancellationRequested();
        EnsureRunning(cluster);
        if (steadyState.Windows.Count > 0)
        {
            _log($"{cluster.Name,-6} {name,-16} {clients,4} clients: warm-up windows of {CompareOptions.WarmupWindow.TotalSeconds:0} s: {string.Join(", ", steadyState.Windows)}");
        }
        var run = new ServerRun(result, Math.Round(serverCpu, 3), Math.Round(clientCpu, 3), cluster.PeakResidentBytes());
        _log(string.Create(CultureInfo.InvariantCulture,
            $"{cluster.Name,-6} {name,-16} {clients,4} clients: {result.ThroughputPerSecond,10:#,0} ops/s  p50 {result.Latency.P50Ms:0.###} ms  p99 {result.Latency.P99Ms:0.###} ms  errors {result.Errors}  server CPU {run.CpuSecondsPer1000Operations:0.###} s/1k ops  (after {result.WarmupSeconds ?? 0:0} s warm-up)"));
        if (result.Watch is { } watch)
        {
            _log(string.Create(CultureInfo.InvariantCulture,
                $"{cluster.Name,-6} {name,-16} {watch.Watchers,4} watchers: {watch.EventsPerSecond,10:#,0} events/s  received {watch.EventsReceived:#,0}/{watch.EventsExpected:#,0}  delivery p50 {watch.DeliveryLatency.P50Ms:0.###} ms  p99 {watch.DeliveryLatency.P99Ms:0.###} ms"));
        }
        return run;
    }

    private async Task<MemoryComparison> MeasureMemoryAsync(BenchCluster etcd, BenchCluster parley, CancellationToken cancellationToken)
    {
        var etcdRun = await MeasureMemoryAsync(etcd, cancellationToken).ConfigureAwait(false);
        var parleyRun = await MeasureMemoryAsync(parley, cancellationToken).ConfigureAwait(false);
        return new MemoryComparison(_options.MemoryKeys, _options.ValueSizeBytes, etcdRun, parleyRun);
    }

    /// <summary>
    /// Loads the memory keys (100 per Txn), lets the members settle, compares resident memory before and after
    /// (summed over members, divided by members and keys), then restarts a follower and times until it serves
    /// the last loaded key from its own state (serializable read).
    /// </summary>
    private async Task<MemoryRun> MeasureMemoryAsync(BenchCluster cluster, CancellationToken cancellationToken)
    {
        EnsureRunning(cluster);
        var keys = new KeySpace(_options.MemoryKeys, _options.KeySizeBytes, 'm');
        var options = _options.BenchOptionsFor(Workload.Put, MemoryLoadClients, cluster.Endpoints);
        using var runner = new BenchRunner(options);
        await runner.ConnectAsync(cancellationToken).ConfigureAwait(false);
        await Task.Delay(MemorySettleMilliseconds, cancellationToken).ConfigureAwait(false);
        var before = cluster.ResidentBytes();
        var value = new byte[_options.ValueSizeBytes];
        new Random(_options.Seed).NextBytes(value);
        var clock = Stopwatch.StartNew();
        await ShowAsync(runner.Progress, $"{cluster.Name}: loading {_options.MemoryKeys:#,0} keys", async () =>
        {
            await runner.WriteKeysAsync(keys, ByteString.CopyFrom(value), cancellationToken).ConfigureAwait(false);
            return 0;
        }).ConfigureAwait(false);
        var loadSeconds = clock.Elapsed.TotalSeconds;
        await Task.Delay(MemorySettleMilliseconds, cancellationToken).ConfigureAwait(false);
        var after = cluster.ResidentBytes();
        var perKey = (double)(after - before) / cluster.Members.Count / _options.MemoryKeys;
        _log(string.Create(CultureInfo.InvariantCulture,
            $"{cluster.Name}: {_options.MemoryKeys:#,0} keys loaded in {loadSeconds:0.0} s; resident {before / 1048576.0:0} -> {after / 1048576.0:0} MiB (all members): {perKey:0} B/key/member"));
        var (restartSeconds, restartError) = await RestartFollowerAsync(cluster, keys.KeyText(keys.KeyCount - 1), cancellationToken).ConfigureAwait(false);
        return new MemoryRun(Math.Round(loadSeconds, 2), before, after, Math.Round(perKey, 1), restartSeconds, restartError);
    }

    private async Task<(double? Seconds, string? Error)> RestartFollowerAsync(BenchCluster cluster, string lastKey, CancellationToken cancellationToken)
    {
        var member = await FindFollowerAsync(cluster, cancellationToken).ConfigureAwait(false);
        member.Stop(TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        member.Start();
        while (!await BenchCluster.ServesAsync(member, serializable: true, lastKey, cancellationToken, mustExist: true).ConfigureAwait(false))
        {
            if (!member.IsRunning)
            {
                return (null, $"{member.Name} exited during restart: {member.LogTail(10)}");
            }
            if (clock.Elapsed > RestartTimeout)
            {
                return (null, $"{member.Name} did not serve {lastKey} within {RestartTimeout.TotalSeconds:0} s");
            }
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
        var seconds = Math.Round(clock.Elapsed.TotalSeconds, 3);
        _log(string.Create(CultureInfo.InvariantCulture, $"{cluster.Name}: follower {member.Name} restarted and served its last key after {seconds:0.000} s"));
        // What the member says it recovered, and how long the log after its snapshot took to apply again (Parley logs
        // both; etcd does not): where a slow restart spent its time.
        var tail = member.LogTail(200).Split('\n');
        foreach (var marker in new[] { " recovered: ", " committed before the restart " })
        {
            if (tail.LastOrDefault(line => line.Contains(marker, StringComparison.Ordinal)) is { } said)
            {
                _log($"{cluster.Name}: {member.Name} {said.Trim()}");
            }
        }
        return (seconds, null);
    }

    /// <summary>A member whose Status names another member as leader (the last member if none says so).</summary>
    private static async Task<MemberProcess> FindFollowerAsync(BenchCluster cluster, CancellationToken cancellationToken)
    {
        foreach (var member in cluster.Members.Reverse())
        {
            if (await StatusAsync(member, cancellationToken).ConfigureAwait(false) is { Leader: not 0 } status && status.Leader != status.Header.MemberId)
            {
                return member;
            }
        }
        return cluster.Members[^1];
    }

    /// <summary>
    /// The cluster's endpoints, the leader's first. Clients take endpoints round-robin, so with fewer clients than
    /// members (the sweep's one-client run) the order decides which member serves them: leader first measures etcd
    /// and Parley alike (etcd's benchmark tool calls it --target-leader), not by which member happened to win the
    /// election. With as many clients as members or more, every member still serves its share.
    /// </summary>
    private static async Task<IReadOnlyList<string>> LeaderFirstAsync(BenchCluster cluster, CancellationToken cancellationToken)
    {
        foreach (var member in cluster.Members)
        {
            if (await StatusAsync(member, cancellationToken).ConfigureAwait(false) is { Leader: not 0 } status && status.Leader == status.Header.MemberId)
            {
                return cluster.Endpoints.Where(endpoint => endpoint != member.ClientEndpoint).Prepend(member.ClientEndpoint).ToArray();
            }
        }
        return cluster.Endpoints;
    }

    /// <summary>Maintenance.Status of one member; null if it does not answer within 5 s.</summary>
    private static async Task<StatusResponse?> StatusAsync(MemberProcess member, CancellationToken cancellationToken)
    {
        using var channel = GrpcChannel.ForAddress("http://" + member.ClientEndpoint);
        try
        {
            return await new Maintenance.MaintenanceClient(channel).StatusAsync(new StatusRequest(),
                new CallOptions(deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            return null;
        }
    }

    private Task<T> ShowAsync<T>(BenchProgress progress, string title, Func<Task<T>> work) =>
        ProgressDisplay.ShowAsync(progress, title, _interactive, quiet: !_options.Progress, work);

    private static void EnsureRunning(BenchCluster cluster)
    {
        foreach (var member in cluster.Members)
        {
            if (!member.IsRunning)
            {
                throw new InvalidOperationException($"{cluster.Name} member {member.Name} is not running; log {member.LogPath}:{Environment.NewLine}{member.LogTail(20)}");
            }
        }
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>Stops both clusters if the process exits some other way (an unhandled error on another thread).</summary>
    private sealed class ClusterCleanup : IDisposable
    {
        private readonly BenchCluster[] _clusters;
        private readonly EventHandler _onExit;

        public ClusterCleanup(params BenchCluster[] clusters)
        {
            _clusters = clusters;
            _onExit = (_, _) => Array.ForEach(_clusters, cluster => cluster.Stop());
            AppDomain.CurrentDomain.ProcessExit += _onExit;
        }

        public void Dispose() => AppDomain.CurrentDomain.ProcessExit -= _onExit;
    }
}
