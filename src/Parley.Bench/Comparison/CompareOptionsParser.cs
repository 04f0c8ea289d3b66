using System.CommandLine;
using System.Globalization;

namespace Parley.Bench.Comparison;

/// <summary>The options of <c>parley bench compare</c> and their validation.</summary>
public sealed class CompareOptionsParser
{
    public Option<int> Members { get; } = new("--members") { Description = "Members per cluster (1, 3 or 5; default 3).", DefaultValueFactory = _ => 3 };

    public Option<string> Workloads { get; } = new("--workloads") { Description = "Comma-separated workloads (default: all of " + string.Join(",", WorkloadNames.All) + ").", DefaultValueFactory = _ => string.Join(",", WorkloadNames.All) };

    public Option<int> Clients { get; } = new("--clients") { Description = "Clients for the workloads (default 64).", DefaultValueFactory = _ => 64 };

    public Option<int?> Connections { get; } = new("--connections", "--conns") { Description = "Connections (default: clients, at most 8)." };

    public Option<string> GrpcClient { get; } = new("--grpc-client")
    {
        Description = "What carries the unary calls to both servers: lean (the bench's own HTTP/2 client, the default) or grpc-net (Grpc.Net.Client).",
        DefaultValueFactory = _ => "lean",
    };

    public Option<string> Sweep { get; } = new("--sweep") { Description = "Client counts of the put sweep for the chart, or 'none' (default 1,8,64,256).", DefaultValueFactory = _ => "1,8,64,256" };

    public Option<string> Duration { get; } = new("--duration") { Description = "Length of each measured run (default 10s).", DefaultValueFactory = _ => "10s" };

    public Option<string> Warmup { get; } = new("--warmup") { Description = "Unmeasured run of the same workload before each measured one: 'auto' (default: at least 10s, then 5s windows until, two windows in a row, the servers' CPU per operation fell by less than 10% and their JIT (if any) compiled under 1% more methods; at most 60s: .NET's JIT recompiles the hot paths over the first tens of seconds under load), a fixed duration, or 0 for none. Server and client CPU count from its end.", DefaultValueFactory = _ => "auto" };

    public Option<long> KeyCount { get; } = new("--key-count") { Description = "Keys written and read by the workloads (default 100000).", DefaultValueFactory = _ => 100_000 };

    public Option<int> KeySize { get; } = new("--key-size") { Description = "Key size in bytes (default 16).", DefaultValueFactory = _ => 16 };

    public Option<int> ValueSize { get; } = new("--value-size") { Description = "Value size in bytes (default 256).", DefaultValueFactory = _ => 256 };

    public Option<double> ReadRatio { get; } = new("--read-ratio") { Description = "Read fraction of the mixed workload (default 0.9).", DefaultValueFactory = _ => 0.9 };

    public Option<int> Watchers { get; } = new("--watchers") { Description = "Watchers of the watch workload (default 100).", DefaultValueFactory = _ => 100 };

    public Option<double> WatchRate { get; } = new("--watch-rate") { Description = "Puts per second during the watch workload (open loop; default 500).", DefaultValueFactory = _ => 500 };

    public Option<long> MemoryKeys { get; } = new("--memory-keys") { Description = "Also load this many keys to measure resident bytes per key and a member's restart time (default 0: skip).", DefaultValueFactory = _ => 0 };

    public Option<string?> Etcd { get; } = new("--etcd") { Description = "etcd binary (default /usr/bin/etcd)." };

    public Option<string?> Parley { get; } = new("--parley") { Description = "Parley to start (parley.dll or executable; default: this build)." };

    public Option<string> Out { get; } = new("--out") { Description = "Directory for compare.json and compare.svg (default bench-compare).", DefaultValueFactory = _ => "bench-compare" };

    public Option<string?> Json { get; } = new("--json") { Description = "Also write the JSON result to this file." };

    public Option<string> Output { get; } = new("--output", "-o") { Description = "table or json (to stdout).", DefaultValueFactory = _ => "table" };

    public Option<string> TimeLimit { get; } = new("--time-limit") { Description = "Stop everything after this long (default 30m).", DefaultValueFactory = _ => "30m" };

    public Option<bool> NoProgress { get; } = new("--no-progress") { Description = "No live progress display." };

    public Option<bool> TargetLeader { get; } = new("--target-leader") { Description = "Every client connects to the leader only (etcd's benchmark --target-leader; default: all members, the leader's endpoint first)." };

    public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the clients' key choices (default 1).", DefaultValueFactory = _ => 1 };

    public static CompareOptions Parse(params string[] args)
    {
        var parser = new CompareOptionsParser();
        var command = new Command("compare");
        parser.AddTo(command);
        var result = command.Parse(args);
        if (result.Errors.Count > 0)
        {
            throw new BenchOptionsException(string.Join("; ", result.Errors.Select(error => error.Message)));
        }
        return parser.Bind(result);
    }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Members, Workloads, Clients, Connections, GrpcClient, Sweep, Duration, Warmup, KeyCount, KeySize, ValueSize, ReadRatio, Watchers, WatchRate, MemoryKeys, Etcd, Parley, Out, Json, Output, TimeLimit, NoProgress, TargetLeader, Seed })
        {
            command.Options.Add(option);
        }
    }

    public CompareOptions Bind(ParseResult result)
    {
        var members = result.GetValue(Members);
        Require(members is 1 or 3 or 5, $"--members must be 1, 3 or 5 (got {members})");
        var workloads = new List<Workload>();
        foreach (var name in (result.GetValue(Workloads) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            Require(WorkloadNames.TryParse(name, out var workload), $"--workloads: unknown workload '{name}' (expected {string.Join(", ", WorkloadNames.All)})");
            Require(!workloads.Contains(workload), $"--workloads: '{name}' listed twice");
            workloads.Add(workload);
        }
        var clients = result.GetValue(Clients);
        Require(clients is >= 1 and <= BenchOptions.ClientsMax, $"--clients must be between 1 and {BenchOptions.ClientsMax} (got {clients})");
        var connections = result.GetValue(Connections);
        Require(connections is null or (>= 1 and <= BenchOptions.ConnectionsMax), $"--connections must be between 1 and {BenchOptions.ConnectionsMax}");
        var grpcClient = BenchOptionsParser.ParseGrpcClient(result.GetValue(GrpcClient));
        var sweepText = result.GetValue(Sweep) ?? "";
        var sweep = new List<int>();
        if (!string.Equals(sweepText.Trim(), "none", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var part in sweepText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                Require(int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= BenchOptions.ClientsMax,
                    $"--sweep: '{part}' is not a client count between 1 and {BenchOptions.ClientsMax}");
                Require(!sweep.Contains(count), $"--sweep: {count} listed twice");
                sweep.Add(count);
            }
            sweep.Sort();
        }
        Require(workloads.Count > 0 || sweep.Count > 0, "--workloads and --sweep are both empty: nothing to compare");
        var durationText = result.GetValue(Duration) ?? "10s";
        Require(DurationText.TryParse(durationText, out var duration), $"--duration '{durationText}' is not a duration (examples: 10s, 2m)");
        var warmupText = (result.GetValue(Warmup) ?? "auto").Trim();
        var defaults = new CompareOptions(); // 'auto': the adaptive warm-up's bounds
        var warmup = defaults.Warmup;
        var warmupMaximum = defaults.WarmupMaximum;
        if (warmupText != "auto")
        {
            warmup = TimeSpan.Zero;
            Require(warmupText == "0" || DurationText.TryParse(warmupText, out warmup), $"--warmup '{warmupText}' is not 'auto' or a duration");
            warmupMaximum = warmup;
        }
        var keyCount = result.GetValue(KeyCount);
        Require(keyCount is >= 1 and <= BenchOptions.KeyCountMax, $"--key-count must be between 1 and {BenchOptions.KeyCountMax}");
        foreach (var workload in workloads)
        {
            Require(keyCount >= WorkloadNames.KeysPerOperation(workload), $"the {WorkloadNames.Name(workload)} workload needs --key-count of at least {WorkloadNames.KeysPerOperation(workload)}");
        }
        var keySize = result.GetValue(KeySize);
        Require(keySize >= KeySpace.KeySizeMin(Math.Max(keyCount, result.GetValue(MemoryKeys))) && keySize <= 1024, $"--key-size must be between {KeySpace.KeySizeMin(keyCount)} and 1024 (got {keySize})");
        var valueSize = result.GetValue(ValueSize);
        Require(valueSize is >= 0 and <= BenchOptions.ValueSizeMax, $"--value-size must be between 0 and {BenchOptions.ValueSizeMax}");
        var readRatio = result.GetValue(ReadRatio);
        Require(readRatio is >= 0 and <= 1, "--read-ratio must be between 0 and 1");
        var watchers = result.GetValue(Watchers);
        Require(watchers is >= 1 and <= BenchOptions.WatchersMax, $"--watchers must be between 1 and {BenchOptions.WatchersMax}");
        var watchRate = result.GetValue(WatchRate);
        Require(watchRate > 0 && !double.IsInfinity(watchRate), "--watch-rate must be a positive number of puts per second");
        Require(!workloads.Contains(Workload.Watch) || valueSize >= BenchOptions.WatchValueSizeMin, $"the watch workload needs --value-size of at least {BenchOptions.WatchValueSizeMin}");
        var memoryKeys = result.GetValue(MemoryKeys);
        Require(memoryKeys is >= 0 and <= BenchOptions.KeyCountMax, $"--memory-keys must be between 0 and {BenchOptions.KeyCountMax}");
        var limitText = result.GetValue(TimeLimit) ?? "30m";
        Require(DurationText.TryParse(limitText, out var timeLimit), $"--time-limit '{limitText}' is not a duration");
        var outputText = result.GetValue(Output) ?? "table";
        Require(outputText is "table" or "json", $"--output must be table or json (got '{outputText}')");
        return new CompareOptions
        {
            Members = members,
            Workloads = workloads,
            Clients = clients,
            Connections = connections,
            GrpcClient = grpcClient,
            Sweep = sweep,
            Duration = duration,
            Warmup = warmup,
            WarmupMaximum = warmupMaximum,
            KeyCount = keyCount,
            KeySizeBytes = keySize,
            ValueSizeBytes = valueSize,
            ReadRatio = readRatio,
            Watchers = watchers,
            WatchRatePerSecond = watchRate,
            MemoryKeys = memoryKeys,
            EtcdPath = result.GetValue(Etcd),
            ParleyPath = result.GetValue(Parley),
            OutputDirectory = result.GetValue(Out) ?? "bench-compare",
            JsonPath = result.GetValue(Json),
            Output = outputText == "json" ? OutputFormat.Json : OutputFormat.Table,
            TimeLimit = timeLimit,
            TargetLeader = result.GetValue(TargetLeader),
            Progress = !result.GetValue(NoProgress),
            Seed = result.GetValue(Seed),
        };
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new BenchOptionsException(message);
        }
    }
}
