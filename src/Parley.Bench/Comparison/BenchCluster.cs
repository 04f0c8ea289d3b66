using System.Diagnostics;
using System.Globalization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Parley.Server;

namespace Parley.Bench.Comparison;

/// <summary>
/// A fresh local cluster of etcd or Parley members for <c>bench compare</c>: free 127.0.0.1 ports, data in a new
/// temporary directory, each member's output in a log file there. Disposing stops every member (SIGTERM, then
/// SIGKILL) and deletes the directory.
/// </summary>
public sealed class BenchCluster : IDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MetricsTimeout = TimeSpan.FromSeconds(2);
    private static readonly HttpClient MetricsClient = new();

    private readonly MemberProcess[] _members;

    private BenchCluster(ServerKind kind, string root, MemberProcess[] members)
    {
        Kind = kind;
        Root = root;
        _members = members;
    }

    public ServerKind Kind { get; }

    public string Root { get; }

    public IReadOnlyList<MemberProcess> Members => _members;

    public IReadOnlyList<string> Endpoints => _members.Select(member => member.ClientEndpoint).ToArray();

    public string Name => Kind == ServerKind.Etcd ? "etcd" : "parley";

    /// <summary>Creates the members (not started yet).</summary>
    public static BenchCluster Create(ServerKind kind, int size, ServerCommand command)
    {
        var prefix = kind == ServerKind.Etcd ? "e" : "p";
        var root = Path.Combine(Path.GetTempPath(), $"parley-bench-{prefix}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(root);
        var ports = LocalPorts.Free(size * 2);
        var names = Enumerable.Range(1, size).Select(i => prefix + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var clientUrls = Enumerable.Range(0, size).Select(i => $"http://127.0.0.1:{ports[i]}").ToArray();
        var peerUrls = Enumerable.Range(0, size).Select(i => $"http://127.0.0.1:{ports[size + i]}").ToArray();
        var initialCluster = string.Join(",", names.Select((name, i) => $"{name}={peerUrls[i]}"));
        var members = new MemberProcess[size];
        for (var i = 0; i < size; i++)
        {
            List<string> arguments = kind == ServerKind.Parley ? ["serve"] : [];
            arguments.AddRange(
            [
                "--name", names[i], "--data-dir", Path.Combine(root, names[i]),
                "--listen-client-urls", clientUrls[i], "--advertise-client-urls", clientUrls[i],
                "--listen-peer-urls", peerUrls[i], "--initial-advertise-peer-urls", peerUrls[i],
                "--initial-cluster", initialCluster, "--initial-cluster-state", "new",
                "--initial-cluster-token", "bench-" + prefix,
            ]);
            members[i] = new MemberProcess(names[i], clientUrls[i]["http://".Length..], Path.Combine(root, names[i] + ".log"), command, arguments);
        }
        return new BenchCluster(kind, root, members);
    }

    public void Start()
    {
        foreach (var member in _members)
        {
            member.Start();
        }
    }

    /// <summary>Waits until every member answers a linearizable Range (so a leader exists and every member serves).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        foreach (var member in _members)
        {
            while (!await ServesAsync(member, serializable: false, key: "parley-bench-ready", cancellationToken).ConfigureAwait(false))
            {
                if (!member.IsRunning)
                {
                    throw new InvalidOperationException($"{Name} member {member.Name} exited during start-up; log {member.LogPath}:{Environment.NewLine}{member.LogTail(20)}");
                }
                if (clock.Elapsed > timeout)
                {
                    throw new TimeoutException($"{Name} member {member.Name} not serving after {timeout.TotalSeconds:0} s; log {member.LogPath}:{Environment.NewLine}{member.LogTail(20)}");
                }
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>True if <paramref name="member"/> answers a Range of <paramref name="key"/> (and, if asked, returns it).</summary>
    public static async Task<bool> ServesAsync(MemberProcess member, bool serializable, string key, CancellationToken cancellationToken, bool mustExist = false)
    {
        using var channel = GrpcChannel.ForAddress("http://" + member.ClientEndpoint);
        var kv = new KV.KVClient(channel);
        try
        {
            var response = await kv.RangeAsync(
                new RangeRequest { Key = ByteString.CopyFromUtf8(key), Serializable = serializable },
                new CallOptions(deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken)).ConfigureAwait(false);
            return !mustExist || response.Kvs.Count == 1;
        }
        catch (RpcException exception) when (exception.StatusCode != StatusCode.Cancelled || !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>User + system CPU seconds of all running members (a member that is not running counts 0).</summary>
    public double CpuSeconds() => _members.Sum(member => member.Pid is { } pid ? ProcessStats.CpuSeconds(pid) ?? 0 : 0);

    /// <summary>
    /// Methods the members' JIT compilers have compiled so far (<c>dotnet_jit_compiled_methods_total</c> from each
    /// member's /metrics), summed; null if no member reports it (etcd: Go compiles ahead of time) or none answers.
    /// (Their compilation time is wall-clock time, which a busy machine inflates: not a measure of the CPU they took.)
    /// </summary>
    public async Task<double?> JitMethodsAsync(CancellationToken cancellationToken)
    {
        const string Metric = "dotnet_jit_compiled_methods_total ";
        double? total = null;
        foreach (var member in _members)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(MetricsTimeout);
                var text = await MetricsClient.GetStringAsync($"http://{member.ClientEndpoint}/metrics", timeout.Token).ConfigureAwait(false);
                foreach (var line in text.AsSpan().EnumerateLines())
                {
                    if (line.StartsWith(Metric, StringComparison.Ordinal)
                        && double.TryParse(line[Metric.Length..], NumberStyles.Float, CultureInfo.InvariantCulture, out var methods))
                    {
                        total = (total ?? 0) + methods;
                    }
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // a member that does not answer in time counts nothing
            }
        }
        return total;
    }

    /// <summary>Sum over members of each one's peak resident set (VmHWM) since it started.</summary>
    public long PeakResidentBytes() => _members.Sum(member => member.Pid is { } pid ? ProcessStats.PeakResidentBytes(pid) ?? 0 : 0);

    /// <summary>Sum over members of the current resident set (VmRSS).</summary>
    public long ResidentBytes() => _members.Sum(member => member.Pid is { } pid ? ProcessStats.ResidentBytes(pid) ?? 0 : 0);

    /// <summary>Stops every member in parallel (SIGTERM, SIGKILL after the grace period).</summary>
    public void Stop() => Parallel.ForEach(_members, member => member.Stop(StopGrace));

    public void Dispose()
    {
        Stop();
        foreach (var member in _members)
        {
            member.Dispose();
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // leave it to the temp cleaner
        }
        catch (UnauthorizedAccessException)
        {
            // leave it to the temp cleaner
        }
    }
}
