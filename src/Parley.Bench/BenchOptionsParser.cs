using System.CommandLine;
using System.Globalization;

namespace Parley.Bench;

/// <summary>
/// The options of <c>parley bench</c>, their defaults and validation. <see cref="Bind"/> turns a parse result into
/// a <see cref="BenchOptions"/> or throws <see cref="BenchOptionsException"/> naming the offending option.
/// </summary>
public sealed class BenchOptionsParser
{
    public Argument<string> Workload { get; } = new("workload")
    {
        Description = "What to send: " + string.Join(", ", WorkloadNames.All) + " (default put).",
        Arity = ArgumentArity.ZeroOrOne,
        DefaultValueFactory = _ => "put",
    };

    public Option<string[]> Endpoints { get; } = new("--endpoints")
    {
        Description = "Client URLs (host:port or http://host:port), comma-separated or repeated; connections are spread over them.",
        AllowMultipleArgumentsPerToken = true,
    };

    public Option<int> Clients { get; } = new("--clients") { Description = "Concurrent clients (default 64).", DefaultValueFactory = _ => 64 };

    public Option<int?> Connections { get; } = new("--connections", "--conns") { Description = "gRPC connections shared by the clients (default: clients, at most 8)." };

    public Option<string> GrpcClient { get; } = new("--grpc-client")
    {
        Description = "What carries the unary calls: lean (the bench's own HTTP/2 client, the default: it leaves the servers more of a shared machine's CPU) or grpc-net (Grpc.Net.Client, as dotnet-etcd uses).",
        DefaultValueFactory = _ => "lean",
    };

    public Option<long> KeyCount { get; } = new("--key-count", "--key-space-size") { Description = "Distinct keys (default 100000).", DefaultValueFactory = _ => 100_000 };

    public Option<int> KeySize { get; } = new("--key-size") { Description = "Key size in bytes (default 16).", DefaultValueFactory = _ => 16 };

    public Option<int> ValueSize { get; } = new("--value-size", "--val-size") { Description = "Value size in bytes (default 256).", DefaultValueFactory = _ => 256 };

    public Option<string?> Duration { get; } = new("--duration") { Description = "How long to send: 10s, 2m, 500ms (default 10s; with --total, whichever ends first)." };

    public Option<string?> Warmup { get; } = new("--warmup") { Description = "Run the workload this long first and drop the results (default 0: none; e.g. 3s)." };

    public Option<long?> Total { get; } = new("--total") { Description = "Total operations to send (then the duration only bounds the run, 10 min unless given)." };

    public Option<double?> Rate { get; } = new("--rate") { Description = "Open loop: target operations per second over all clients; latency counts from the intended send time." };

    public Option<double> ReadRatio { get; } = new("--read-ratio") { Description = "Fraction of reads in the mixed workload (default 0.9).", DefaultValueFactory = _ => 0.9 };

    public Option<int> Watchers { get; } = new("--watchers") { Description = "Watch streams of the watch workload, each watching every key (default 100).", DefaultValueFactory = _ => 100 };

    public Option<int?> Leases { get; } = new("--leases") { Description = "Leases of the lease-keepalive workload (default: one per client; at least one per client)." };

    public Option<bool> NoPreload { get; } = new("--no-preload") { Description = "Do not write the key space before read workloads (the keys must exist)." };

    public Option<string?> Timeout { get; } = new("--timeout") { Description = "Per-request deadline (default 10s); past it a request counts as an error." };

    public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the clients' key choices (default 1).", DefaultValueFactory = _ => 1 };

    public Option<string?> Json { get; } = new("--json") { Description = "Also write the result as JSON to this file." };

    public Option<string> Output { get; } = new("--output", "-o") { Description = "table or json (to stdout).", DefaultValueFactory = _ => "table" };

    public Option<bool> NoProgress { get; } = new("--no-progress") { Description = "No live progress display." };

    /// <summary>Parses a bench command line (without the leading "bench") into options; for tests and tools.</summary>
    public static BenchOptions Parse(params string[] args)
    {
        var parser = new BenchOptionsParser();
        var command = new Command("bench");
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
        command.Arguments.Add(Workload);
        foreach (var option in new Option[] { Endpoints, Clients, Connections, GrpcClient, KeyCount, KeySize, ValueSize, Duration, Warmup, Total, Rate, ReadRatio, Watchers, Leases, NoPreload, Timeout, Seed, Json, Output, NoProgress })
        {
            command.Options.Add(option);
        }
    }

    public BenchOptions Bind(ParseResult result)
    {
        var workloadText = result.GetValue(Workload) ?? "put";
        if (!WorkloadNames.TryParse(workloadText, out var workload))
        {
            throw new BenchOptionsException($"unknown workload '{workloadText}': expected one of {string.Join(", ", WorkloadNames.All)}");
        }
        var endpoints = ParseEndpoints(result.GetValue(Endpoints));
        var clients = result.GetValue(Clients);
        Require(clients is >= 1 and <= BenchOptions.ClientsMax, $"--clients must be between 1 and {BenchOptions.ClientsMax} (got {clients})");
        var connections = result.GetValue(Connections) ?? Math.Min(clients, 8);
        Require(connections is >= 1 and <= BenchOptions.ConnectionsMax, $"--connections must be between 1 and {BenchOptions.ConnectionsMax} (got {connections})");
        Require(connections <= clients, $"--connections ({connections}) cannot exceed --clients ({clients}): a connection without a client sends nothing");
        var grpcClient = ParseGrpcClient(result.GetValue(GrpcClient));
        var keyCount = result.GetValue(KeyCount);
        Require(keyCount is >= 1 and <= BenchOptions.KeyCountMax, $"--key-count must be between 1 and {BenchOptions.KeyCountMax} (got {keyCount})");
        var keySize = result.GetValue(KeySize);
        Require(keySize >= KeySpace.KeySizeMin(keyCount) && keySize <= 1024, $"--key-size must be between {KeySpace.KeySizeMin(keyCount)} (to hold {keyCount} distinct keys) and 1024 (got {keySize})");
        var valueSize = result.GetValue(ValueSize);
        Require(valueSize is >= 0 and <= BenchOptions.ValueSizeMax, $"--value-size must be between 0 and {BenchOptions.ValueSizeMax} (got {valueSize})");
        var keysPerRange = WorkloadNames.KeysPerOperation(workload);
        Require(keyCount >= keysPerRange, $"the {WorkloadNames.Name(workload)} workload needs --key-count of at least {keysPerRange} (got {keyCount})");
        var total = result.GetValue(Total);
        Require(total is null or >= 1, $"--total must be at least 1 (got {total})");
        var durationText = result.GetValue(Duration);
        var duration = total is null ? TimeSpan.FromSeconds(10) : TimeSpan.FromMinutes(10);
        if (durationText is not null)
        {
            Require(DurationText.TryParse(durationText, out duration), $"--duration '{durationText}' is not a duration (examples: 10s, 2m, 500ms; at most 24h)");
        }
        var warmup = TimeSpan.Zero;
        if (result.GetValue(Warmup) is { } warmupText && warmupText.Trim() != "0")
        {
            Require(DurationText.TryParse(warmupText, out warmup), $"--warmup '{warmupText}' is not a duration");
        }
        var rate = result.GetValue(Rate);
        Require(rate is null || (rate > 0 && !double.IsInfinity(rate.Value)), $"--rate must be a positive number of operations per second (got {rate?.ToString(CultureInfo.InvariantCulture)})");
        var readRatio = result.GetValue(ReadRatio);
        Require(readRatio is >= 0 and <= 1, $"--read-ratio must be between 0 and 1 (got {readRatio.ToString(CultureInfo.InvariantCulture)})");
        var watchers = result.GetValue(Watchers);
        Require(watchers is >= 1 and <= BenchOptions.WatchersMax, $"--watchers must be between 1 and {BenchOptions.WatchersMax} (got {watchers})");
        Require(workload != Bench.Workload.Watch || valueSize >= BenchOptions.WatchValueSizeMin, $"the watch workload needs --value-size of at least {BenchOptions.WatchValueSizeMin} (the put's timestamp; got {valueSize})");
        var leases = result.GetValue(Leases);
        Require(leases is null || (leases >= clients && leases <= BenchOptions.LeasesMax), $"--leases must be between --clients ({clients}) and {BenchOptions.LeasesMax} (got {leases})");
        var timeout = TimeSpan.FromSeconds(10);
        if (result.GetValue(Timeout) is { } timeoutText)
        {
            Require(DurationText.TryParse(timeoutText, out timeout), $"--timeout '{timeoutText}' is not a duration");
        }
        var outputText = result.GetValue(Output) ?? "table";
        OutputFormat output;
        if (string.Equals(outputText, "table", StringComparison.OrdinalIgnoreCase))
        {
            output = OutputFormat.Table;
        }
        else if (string.Equals(outputText, "json", StringComparison.OrdinalIgnoreCase))
        {
            output = OutputFormat.Json;
        }
        else
        {
            throw new BenchOptionsException($"--output must be table or json (got '{outputText}')");
        }
        return new BenchOptions
        {
            Endpoints = endpoints,
            Workload = workload,
            Clients = clients,
            Connections = connections,
            GrpcClient = grpcClient,
            KeyCount = keyCount,
            KeySizeBytes = keySize,
            ValueSizeBytes = valueSize,
            Duration = duration,
            TotalOperations = total,
            Warmup = warmup,
            TargetRatePerSecond = rate,
            ReadRatio = readRatio,
            Watchers = watchers,
            Leases = leases,
            Preload = !result.GetValue(NoPreload),
            RequestTimeout = timeout,
            Seed = result.GetValue(Seed),
            JsonPath = result.GetValue(Json),
            Output = output,
            Progress = !result.GetValue(NoProgress),
        };
    }

    /// <summary>Splits comma-separated endpoints and checks each is host:port (with or without http://).</summary>
    public static IReadOnlyList<string> ParseEndpoints(IEnumerable<string>? values)
    {
        var endpoints = (values ?? [])
            .SelectMany(value => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToList();
        if (endpoints.Count == 0)
        {
            endpoints.Add("127.0.0.1:2379");
        }
        var normalised = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var text = endpoint.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? endpoint["http://".Length..] : endpoint;
            if (endpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                throw new BenchOptionsException($"--endpoints '{endpoint}': TLS endpoints are not supported by the bench");
            }
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535 || text.Contains('/', StringComparison.Ordinal))
            {
                throw new BenchOptionsException($"--endpoints '{endpoint}' is not host:port");
            }
            normalised.Add(text);
        }
        return normalised;
    }

    internal static GrpcClientKind ParseGrpcClient(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "lean" => GrpcClientKind.Lean,
        "grpc-net" => GrpcClientKind.GrpcNet,
        _ => throw new BenchOptionsException($"--grpc-client must be lean or grpc-net (got '{text}')"),
    };

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new BenchOptionsException(message);
        }
    }
}
