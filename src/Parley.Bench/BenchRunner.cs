using System.Diagnostics;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Parley.Bench;

/// <summary>
/// Runs one workload: <see cref="ConnectAsync"/> (one request per connection, so that connections are up and
/// the client code is warm), <see cref="PreloadAsync"/> (write the key space when the workload reads it), then
/// <see cref="RunAsync"/>, the measured phase. Each client sends one operation at a time: at once on completion
/// (closed loop) or at its intended time (open loop, <see cref="OpenLoopSchedule"/>).
/// </summary>
public sealed class BenchRunner : IDisposable
{
    private const int PreloadConcurrencyMax = 32;
    private const int LeaseGrantConcurrency = 8;
    private const int LoadAttemptsMax = 5;
    private static readonly TimeSpan WatchDrainQuiet = TimeSpan.FromSeconds(5);

    private readonly BenchOptions _options;
    private readonly BenchConnections _connections;
    private readonly KeySpace _keys;
    private readonly ByteString _value;

    public BenchRunner(BenchOptions options)
    {
        _options = options;
        _keys = new KeySpace(options.KeyCount, options.KeySizeBytes);
        _connections = new BenchConnections(options.Endpoints, options.Connections, options.GrpcClient);
        var value = new byte[options.ValueSizeBytes];
        new Random(options.Seed).NextBytes(value);
        _value = ByteString.CopyFrom(value);
    }

    public BenchProgress Progress { get; } = new();

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        Progress.StartPhase("connecting", _connections.Count, TimeSpan.Zero, Stopwatch.GetTimestamp());
        var probes = new Task[_connections.Count];
        for (var i = 0; i < probes.Length; i++)
        {
            var endpoint = _connections.Endpoints[i];
            var kv = _connections.Kv[i];
            probes[i] = ProbeAsync(kv, endpoint, cancellationToken);
        }
        await Task.WhenAll(probes).ConfigureAwait(false);
    }

    private async Task ProbeAsync(KV.KVClient kv, string endpoint, CancellationToken cancellationToken)
    {
        try
        {
            var request = new RangeRequest { Key = ByteString.CopyFromUtf8("parley-bench-probe"), Serializable = true };
            await kv.RangeAsync(request, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellationToken)).ConfigureAwait(false);
            Progress.AddCompleted(1);
        }
        catch (RpcException exception)
        {
            throw new BenchOptionsException($"endpoint {endpoint} did not answer a Range: {exception.StatusCode}: {exception.Status.Detail}");
        }
    }

    /// <summary>Writes every key of the key space (Txns of 100 puts) if the workload reads keys and preloading is on.</summary>
    public async Task PreloadAsync(CancellationToken cancellationToken)
    {
        if (!_options.Preload || !WorkloadNames.NeedsPreload(_options.Workload))
        {
            return;
        }
        await WriteKeysAsync(_keys, _value, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes keys 0 … count−1 of <paramref name="keys"/> with value <paramref name="value"/>, 100 per Txn.</summary>
    public async Task WriteKeysAsync(KeySpace keys, ByteString value, CancellationToken cancellationToken)
    {
        var batchKeys = BenchOptions.PreloadBatchKeysDefault;
        var batches = (keys.KeyCount + batchKeys - 1) / batchKeys;
        Progress.StartPhase("preloading", keys.KeyCount, TimeSpan.Zero, Stopwatch.GetTimestamp());
        long next = -1;
        async Task WriterAsync(KV.KVClient kv)
        {
            for (var batch = Interlocked.Increment(ref next); batch < batches; batch = Interlocked.Increment(ref next))
            {
                var request = new TxnRequest();
                var first = batch * batchKeys;
                var last = Math.Min(keys.KeyCount, first + batchKeys);
                for (var key = first; key < last; key++)
                {
                    request.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = keys.Key(key), Value = value } });
                }
                await WriteBatchAsync(kv, request, cancellationToken).ConfigureAwait(false);
                Progress.AddCompleted(last - first);
            }
        }
        var writers = Enumerable.Range(0, Math.Min(PreloadConcurrencyMax, _options.Clients))
            .Select(writer => WriterAsync(_connections.KvFor(writer)))
            .ToArray();
        await Task.WhenAll(writers).ConfigureAwait(false);
    }

    /// <summary>
    /// One batch of the load; a batch that times out or meets a leader change is sent again (it only puts fixed
    /// values, so a repeat is harmless), up to <see cref="LoadAttemptsMax"/> times.
    /// </summary>
    private static async Task WriteBatchAsync(KV.KVClient kv, TxnRequest request, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await kv.TxnAsync(request, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60), cancellationToken: cancellationToken)).ConfigureAwait(false);
                return;
            }
            catch (RpcException exception) when (attempt < LoadAttemptsMax && exception.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The warm-up (if any), then the measured phase. <paramref name="measuring"/> is called between the two, so a caller
    /// can read counters (server CPU) over the measured phase only. With a <paramref name="steadiness"/> plan the warm-up
    /// runs in windows until the plan says the server is steady (at least <see cref="BenchOptions.Warmup"/>, at most the
    /// plan's maximum). Cancellation ends the run early; the result then covers what ran and says so.
    /// </summary>
    public async Task<BenchResult> RunAsync(CancellationToken cancellationToken, Action? measuring = null, WarmupPlan? steadiness = null)
    {
        var warmupSeconds = await WarmUpAsync(steadiness, cancellationToken).ConfigureAwait(false);
        measuring?.Invoke();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var measured = await RunMeasuredAsync(cancellationToken).ConfigureAwait(false);
        return measured with
        {
            ClientCpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds,
            WarmupSeconds = _options.Warmup > TimeSpan.Zero ? Math.Round(warmupSeconds, 1) : null,
        };
    }

    /// <summary>Runs the workload unmeasured (same clients and mode, results dropped) so that JIT tiers, connection pools and server caches warm up first.</summary>
    private async Task<double> WarmUpAsync(WarmupPlan? steadiness, CancellationToken cancellationToken)
    {
        if (_options.Warmup <= TimeSpan.Zero)
        {
            return 0;
        }
        var window = steadiness?.Window ?? _options.Warmup;
        var maximum = steadiness is null ? _options.Warmup : TimeSpan.FromTicks(Math.Max(steadiness.Maximum.Ticks, _options.Warmup.Ticks));
        using var warmup = new BenchRunner(_options with { Duration = window, TotalOperations = null, Warmup = TimeSpan.Zero, Workload = WarmupWorkload(_options.Workload) });
        Progress.StartPhase(steadiness is null ? "warming up" : "warming up until steady", 0, maximum, Stopwatch.GetTimestamp());
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var result = await warmup.RunClientsAsync(cancellationToken).ConfigureAwait(false);
            // every window goes to the plan, so that it compares each with the one before
            var steady = steadiness is null || await steadiness.IsSteadyAsync(result, cancellationToken).ConfigureAwait(false);
            var elapsed = clock.Elapsed;
            if (cancellationToken.IsCancellationRequested || elapsed >= maximum || (steady && elapsed >= _options.Warmup))
            {
                return elapsed.TotalSeconds;
            }
        }
    }

    private async Task<BenchResult> RunMeasuredAsync(CancellationToken cancellationToken)
    {
        if (_options.Workload != Workload.Watch)
        {
            return await RunClientsAsync(cancellationToken).ConfigureAwait(false);
        }
        var watchers = new WatchFanOut(_connections, _keys, _options.Watchers);
        await using (watchers.ConfigureAwait(false))
        {
            Progress.StartPhase("creating watchers", _options.Watchers, TimeSpan.Zero, Stopwatch.GetTimestamp());
            await watchers.StartAsync(cancellationToken).ConfigureAwait(false);
            var writersStart = Stopwatch.GetTimestamp();
            var result = await RunClientsAsync(cancellationToken).ConfigureAwait(false);
            var expected = result.Operations * _options.Watchers;
            Progress.StartPhase("draining watch events", expected, TimeSpan.Zero, Stopwatch.GetTimestamp());
            await watchers.DrainAsync(expected, WatchDrainQuiet, cancellationToken).ConfigureAwait(false);
            return result with { Watch = watchers.Summarize(expected, writersStart) };
        }
    }

    /// <summary>The watch workload warms up its writers with puts (its watchers open in the measured phase).</summary>
    private static Workload WarmupWorkload(Workload workload) => workload == Workload.Watch ? Workload.Put : workload;

    private async Task<BenchResult> RunClientsAsync(CancellationToken cancellationToken)
    {
        var clients = Enumerable.Range(0, _options.Clients)
            .Select(index => new BenchClient(index, _options.Clients, _options, _keys, _connections.KvFor(index), _value))
            .ToArray();
        if (_options.Workload == Workload.LeaseKeepAlive)
        {
            await GrantLeasesAsync(clients, cancellationToken).ConfigureAwait(false);
        }
        var errors = new ErrorTally();
        var schedule = _options.TargetRatePerSecond is { } rate ? new OpenLoopSchedule(rate, _options.Clients, Stopwatch.Frequency) : null;
        var durationTicks = (long)(_options.Duration.TotalSeconds * Stopwatch.Frequency);
        var startedUtc = DateTime.UtcNow;
        var start = Stopwatch.GetTimestamp();
        Progress.StartPhase("running", _options.TotalOperations ?? 0, _options.Duration, start);
        var budget = new OperationBudget(_options.TotalOperations);
        var tasks = clients.Select((client, index) => Task.Run(
            () => ClientLoopAsync(client, index, schedule, start, durationTicks, budget, errors, cancellationToken),
            CancellationToken.None)).ToArray();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        var elapsedTicks = Stopwatch.GetTimestamp() - start;
        foreach (var client in clients)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
        return Summarize(clients, errors, schedule is not null, startedUtc, elapsedTicks, cancellationToken.IsCancellationRequested);
    }

    /// <summary>Lease workload: every client grants its share of the leases (index mod clients), 8 grants at a time.</summary>
    private async Task GrantLeasesAsync(BenchClient[] clients, CancellationToken cancellationToken)
    {
        var leases = _options.Leases ?? _options.Clients;
        Progress.StartPhase("granting leases", leases, TimeSpan.Zero, Stopwatch.GetTimestamp());
        using var gate = new SemaphoreSlim(LeaseGrantConcurrency);
        var grants = clients.Select(async (client, index) =>
        {
            var count = (leases / _options.Clients) + (index < leases % _options.Clients ? 1 : 0);
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await client.GrantLeasesAsync(_connections.LeaseFor(index), count, _options.LeaseTtlSeconds, cancellationToken).ConfigureAwait(false);
                Progress.AddCompleted(count);
            }
            finally
            {
                gate.Release();
            }
        }).ToArray();
        await Task.WhenAll(grants).ConfigureAwait(false);
    }

    private async Task ClientLoopAsync(
        BenchClient client, int index, OpenLoopSchedule? schedule, long start, long durationTicks, OperationBudget budget,
        ErrorTally errors, CancellationToken cancellationToken)
    {
        for (long sequence = 0; !cancellationToken.IsCancellationRequested; sequence++)
        {
            long intended;
            if (schedule is not null)
            {
                var offset = schedule.IntendedOffsetTicks(index, sequence);
                if (offset >= durationTicks)
                {
                    return;
                }
                intended = start + offset;
                var waitTicks = intended - Stopwatch.GetTimestamp();
                if (waitTicks > 0)
                {
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds((double)waitTicks / Stopwatch.Frequency), cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
            else
            {
                intended = Stopwatch.GetTimestamp();
                if (intended - start >= durationTicks)
                {
                    return;
                }
            }
            if (!budget.TryTake())
            {
                return;
            }
            var sent = Stopwatch.GetTimestamp();
            try
            {
                await client.ExecuteAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException exception) when (exception.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException exception)
            {
                errors.Add($"{exception.StatusCode}: {exception.Status.Detail}");
                Progress.AddError();
                continue;
            }
            catch (BenchCheckException exception)
            {
                errors.Add("unexpected answer: " + exception.Message);
                Progress.AddError();
                continue;
            }
            var done = Stopwatch.GetTimestamp();
            client.Latency.RecordTicks(done - intended, Stopwatch.Frequency);
            if (schedule is not null)
            {
                client.ServiceTime.RecordTicks(done - sent, Stopwatch.Frequency);
            }
            Progress.AddCompleted(1);
        }
    }

    private BenchResult Summarize(BenchClient[] clients, ErrorTally errors, bool openLoop, DateTime startedUtc, long elapsedTicks, bool cancelled)
    {
        var latency = new LatencyHistogram();
        var service = new LatencyHistogram();
        foreach (var client in clients)
        {
            latency.Add(client.Latency);
            service.Add(client.ServiceTime);
        }
        var elapsedSeconds = (double)elapsedTicks / Stopwatch.Frequency;
        var workload = _options.Workload;
        var reads = clients.Sum(client => client.Reads);
        var writes = clients.Sum(client => client.Writes);
        return new BenchResult
        {
            Workload = WorkloadNames.Name(workload),
            Endpoints = _options.Endpoints,
            Clients = _options.Clients,
            Connections = _options.Connections,
            KeyCount = _options.KeyCount,
            KeySizeBytes = _options.KeySizeBytes,
            ValueSizeBytes = _options.ValueSizeBytes,
            ReadRatio = workload == Workload.Mixed ? _options.ReadRatio : null,
            TargetRatePerSecond = _options.TargetRatePerSecond,
            StartedUtc = startedUtc.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ElapsedSeconds = Math.Round(elapsedSeconds, 3),
            Operations = latency.Count,
            Errors = errors.Total,
            ErrorKinds = errors.Snapshot(),
            ThroughputPerSecond = elapsedSeconds > 0 ? Math.Round(latency.Count / elapsedSeconds, 1) : 0,
            Latency = latency.Summarize(),
            ServiceTime = openLoop ? service.Summarize() : null,
            Reads = reads,
            Writes = writes,
            TxnSucceeded = workload == Workload.TxnCas ? clients.Sum(client => client.TxnSucceeded) : null,
            TxnFailed = workload == Workload.TxnCas ? clients.Sum(client => client.TxnFailed) : null,
            KeysRead = clients.Sum(client => client.KeysRead),
            KeepAlives = workload == Workload.LeaseKeepAlive ? clients.Sum(client => client.KeepAlives) : null,
            Leases = workload == Workload.LeaseKeepAlive ? _options.Leases ?? _options.Clients : null,
            Cancelled = cancelled,
        };
    }

    public void Dispose() => _connections.Dispose();
}
