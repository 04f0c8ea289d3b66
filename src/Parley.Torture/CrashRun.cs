using System.Collections.Concurrent;
using System.Globalization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Parley.Torture;

/// <summary>
/// Crash mode (issue 3, real members): a 3-member cluster written through the etcd gRPC API by concurrent writers
/// (each put a fresh key with a payload of random size), while members are SIGKILLed at random moments, one at a
/// time and all at once, and restarted. After every restart, and at the end through every member: each
/// acknowledged write is present and intact, and nothing is present that no writer sent.
/// </summary>
internal sealed class CrashRun
{
    private const string Prefix = "crash/";
    private const int WritesMaxPerWriter = 20_000;
    private readonly TortureOptions _options;
    private readonly int _number;
    private readonly int _seed;
    private readonly string _folder;
    private readonly List<string> _anomalies = [];
    private readonly ConcurrentDictionary<string, string> _acknowledged = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _attempted = new(StringComparer.Ordinal);
    private int _unknown;

    public CrashRun(TortureOptions options, int number, int seed)
    {
        _options = options;
        _number = number;
        _seed = seed;
        _folder = Path.Combine(options.OutputDirectory, string.Create(CultureInfo.InvariantCulture, $"crash-{number:D3}-seed{seed}"));
    }

    public async Task<RunResult> RunAsync(CancellationToken cancellation)
    {
        Directory.CreateDirectory(_folder);
        var clock = new RunClock();
        var faults = new Dictionary<FaultKind, int>();
        var landed = 0;
        await using (var schedule = new StreamWriter(Path.Combine(_folder, "nemesis.log")))
        {
            await schedule.WriteLineAsync($"crash run {_number}: 3 members, seed {_seed}, {_options.Kills} kills").ConfigureAwait(false);
            var cluster = new TortureCluster(new TortureClusterOptions
            {
                Size = 3, Folder = _folder, ParleyPath = _options.ParleyPath, Seed = _seed, InjectBug = _options.ServerBug,
                HeartbeatIntervalMs = _options.HeartbeatIntervalMs, ElectionTimeoutMs = _options.ElectionTimeoutMs,
                Network = _options.Network, UseNetem = _options.Network == NetworkMode.Netns && NetnsSupport.Probe.HasNetem,
            });
            await using (cluster.ConfigureAwait(false))
            {
                try
                {
                    await schedule.WriteLineAsync("network: " + cluster.NetworkDescription).ConfigureAwait(false);
                    await cluster.StartAsync(cancellation).ConfigureAwait(false);
                    using var stopWriters = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                    var writers = Enumerable.Range(1, _options.Clients > 0 ? _options.Clients : 4)
                        .Select(id => WriteAsync(cluster, id, stopWriters.Token)).ToList();
                    try
                    {
                        await KillRoundsAsync(cluster, clock, schedule, faults, cancellation).ConfigureAwait(false);
                    }
                    finally
                    {
                        await stopWriters.CancelAsync().ConfigureAwait(false);
                        await Task.WhenAll(writers).ConfigureAwait(false);
                    }
                    cluster.HealAll();
                    await WaitAllReadyAsync(cluster, cancellation).ConfigureAwait(false);
                    landed = await VerifyEveryMemberAsync(cluster, cancellation).ConfigureAwait(false);
                }
                catch (TimeoutException exception)
                {
                    _anomalies.Add("liveness: " + exception.Message);
                }
                finally
                {
                    _anomalies.AddRange(cluster.FindUnexpectedExits().Select(line => "crash: " + line));
                }
            }
        }
        var kept = _anomalies.Count > 0 || _options.Keep;
        if (_anomalies.Count > 0)
        {
            await File.WriteAllLinesAsync(Path.Combine(_folder, "anomalies.txt"), _anomalies, CancellationToken.None).ConfigureAwait(false);
            await File.WriteAllLinesAsync(Path.Combine(_folder, "acknowledged.txt"), _acknowledged.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Key} {pair.Value.Length} bytes"), CancellationToken.None).ConfigureAwait(false);
        }
        if (!kept)
        {
            TortureRun.TryDelete(_folder);
        }
        return new RunResult
        {
            Number = _number, Network = _options.Network, Members = 3, Folder = _folder, Elapsed = clock.Elapsed, Operations = _attempted.Count,
            Acknowledged = _acknowledged.Count, Unknown = _unknown, Resolved = landed, Faults = faults, Anomalies = _anomalies, Kept = kept,
        };
    }

    private async Task KillRoundsAsync(TortureCluster cluster, RunClock clock, StreamWriter schedule, Dictionary<FaultKind, int> faults, CancellationToken cancellation)
    {
        var random = new Random(_seed);
        for (var round = 1; round <= _options.Kills; round++)
        {
            await Task.Delay(200 + random.Next(1500), cancellation).ConfigureAwait(false);
            var acknowledgedBefore = _acknowledged.ToArray();
            var all = round % 3 == 0;
            var victims = all ? Enumerable.Range(0, 3).ToArray() : [random.Next(3)];
            foreach (var member in victims)
            {
                cluster.Kill(member);
            }
            var kind = all ? FaultKind.KillAll : FaultKind.Kill;
            faults[kind] = faults.GetValueOrDefault(kind) + 1;
            await Log(schedule, clock, $"round {round}: SIGKILL {string.Join(",", victims.Select(member => cluster.Names[member]))} ({acknowledgedBefore.Length} writes acknowledged so far)").ConfigureAwait(false);
            await Task.Delay(100 + random.Next(700), cancellation).ConfigureAwait(false);
            foreach (var member in victims)
            {
                cluster.Start(member);
            }
            await WaitAllReadyAsync(cluster, cancellation).ConfigureAwait(false);
            await Log(schedule, clock, $"round {round}: restarted and ready").ConfigureAwait(false);
            var present = await ReadPrefixAsync(cluster, random.Next(3), serializable: false, cancellation).ConfigureAwait(false);
            CheckAcknowledged(acknowledgedBefore, present, $"after round {round} (read through a random member)");
        }
    }

    /// <summary>One writer: fresh keys, payloads of 16 B to 1 KiB; a failed put is unknown (it may have landed).</summary>
    private async Task WriteAsync(TortureCluster cluster, int writer, CancellationToken stop)
    {
        var random = new Random(_seed * 100 + writer);
        var member = cluster.Members[writer % cluster.Members.Count];
        var channel = GrpcChannel.ForAddress(cluster.ClientUrls[member]);
        try
        {
            for (var sequence = 1; sequence <= WritesMaxPerWriter && !stop.IsCancellationRequested; sequence++)
            {
                var key = string.Create(CultureInfo.InvariantCulture, $"{Prefix}w{writer}/{sequence:D6}");
                var value = Payload(random, writer, sequence);
                _attempted[key] = value;
                try
                {
                    await new KV.KVClient(channel).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) },
                        deadline: DateTime.UtcNow + _options.RequestTimeout, cancellationToken: CancellationToken.None).ConfigureAwait(false);
                    _acknowledged[key] = value;
                }
                catch (RpcException)
                {
                    Interlocked.Increment(ref _unknown);
                    await Task.Delay(100 + random.Next(200), CancellationToken.None).ConfigureAwait(false);
                    member = cluster.Members[random.Next(cluster.Members.Count)];
                    channel.Dispose();
                    channel = GrpcChannel.ForAddress(cluster.ClientUrls[member]);
                }
            }
        }
        finally
        {
            channel.Dispose();
        }
    }

    private static string Payload(Random random, int writer, int sequence)
    {
        var length = 16 + random.Next(1024 - 16);
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = (char)('a' + random.Next(26));
        }
        var head = string.Create(CultureInfo.InvariantCulture, $"w{writer}-{sequence}:");
        head.CopyTo(0, chars, 0, Math.Min(head.Length, length));
        return new string(chars);
    }

    /// <summary>The final check, through every member: acknowledged writes intact, nothing unwritten, members equal.</summary>
    private async Task<int> VerifyEveryMemberAsync(TortureCluster cluster, CancellationToken cancellation)
    {
        Dictionary<string, string>? first = null;
        foreach (var member in cluster.Members)
        {
            var present = await ReadPrefixAsync(cluster, member, serializable: false, cancellation).ConfigureAwait(false);
            CheckAcknowledged([.. _acknowledged], present, "at the end, through " + cluster.Names[member]);
            foreach (var (key, value) in present)
            {
                if (!_attempted.TryGetValue(key, out var sent))
                {
                    _anomalies.Add($"phantom write through {cluster.Names[member]}: {key} was never written");
                }
                else if (sent != value)
                {
                    _anomalies.Add($"corrupt write through {cluster.Names[member]}: {key} holds {value.Length} bytes that differ from the {sent.Length} bytes sent");
                }
            }
            if (first is null)
            {
                first = present;
            }
            else if (first.Count != present.Count || first.Any(pair => !present.TryGetValue(pair.Key, out var value) || value != pair.Value))
            {
                _anomalies.Add($"members disagree: {cluster.Names[0]} has {first.Count} keys, {cluster.Names[member]} has {present.Count}");
            }
        }
        return first is null ? 0 : first.Keys.Count(key => !_acknowledged.ContainsKey(key));
    }

    private void CheckAcknowledged(KeyValuePair<string, string>[] acknowledged, Dictionary<string, string> present, string when)
    {
        foreach (var (key, value) in acknowledged)
        {
            if (!present.TryGetValue(key, out var found))
            {
                _anomalies.Add($"lost write {when}: acknowledged {key} is missing");
            }
            else if (found != value)
            {
                _anomalies.Add($"corrupt write {when}: acknowledged {key} holds {found.Length} bytes, not the {value.Length} bytes sent");
            }
        }
    }

    private static async Task<Dictionary<string, string>> ReadPrefixAsync(TortureCluster cluster, int member, bool serializable, CancellationToken cancellation)
    {
        using var channel = GrpcChannel.ForAddress(cluster.ClientUrls[member], new GrpcChannelOptions { MaxReceiveMessageSize = 256 << 20 });
        var client = new KV.KVClient(channel);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var response = await client.RangeAsync(new RangeRequest
                {
                    Key = ByteString.CopyFromUtf8(Prefix), RangeEnd = ByteString.CopyFromUtf8("crash0"), Serializable = serializable,
                }, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellation).ConfigureAwait(false);
                return response.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), kv => kv.Value.ToStringUtf8(), StringComparer.Ordinal);
            }
            catch (RpcException exception) when (attempt >= 20)
            {
                throw new TimeoutException($"{cluster.Names[member]} cannot serve a read after a restart: {exception.Status.Detail}");
            }
            catch (RpcException)
            {
                await Task.Delay(500, cancellation).ConfigureAwait(false);
            }
        }
    }

    private static async Task WaitAllReadyAsync(TortureCluster cluster, CancellationToken cancellation) =>
        await TortureCluster.WaitUntilAsync(async () => (await Task.WhenAll(cluster.Members.Select(cluster.IsReadyAsync)).ConfigureAwait(false)).All(ready => ready),
            TimeSpan.FromSeconds(60), "every member ready after a restart", cancellation).ConfigureAwait(false);

    private static async Task Log(StreamWriter schedule, RunClock clock, string line)
    {
        await schedule.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed.TotalMilliseconds,9:F0} ms  {line}")).ConfigureAwait(false);
        await schedule.FlushAsync().ConfigureAwait(false);
    }
}
