using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Parley.Server;
using Parley.Storage;

namespace Parley.Cli;

/// <summary>
/// <c>parley serve</c>: one member, configured with etcd's flag names. Precedence: command-line flag, then the
/// PARLEY_&lt;FLAG&gt; environment variable, then the YAML --config-file. Stops cleanly on SIGINT/SIGTERM.
/// </summary>
internal static class ServeCommand
{
    private static readonly Dictionary<string, string> Descriptions = new(StringComparer.Ordinal)
    {
        ["name"] = "Human-readable name for this member (default 'default').",
        ["data-dir"] = "Path to the data directory (default '<name>.parley').",
        ["listen-client-urls"] = "URLs to listen on for client traffic: gRPC and HTTP on the same port (default http://127.0.0.1:2379).",
        ["advertise-client-urls"] = "This member's client URLs to advertise to the rest of the cluster (default: the listen URLs).",
        ["listen-peer-urls"] = "URLs to listen on for peer traffic (default http://127.0.0.1:2380).",
        ["initial-advertise-peer-urls"] = "This member's peer URLs to advertise to the rest of the cluster (default: the listen peer URLs).",
        ["initial-cluster"] = "Initial cluster configuration for bootstrapping, e.g. 'm1=http://10.0.0.1:2380,m2=http://10.0.0.2:2380'.",
        ["initial-cluster-state"] = "'new' to bootstrap a new cluster, 'existing' to join one.",
        ["initial-cluster-token"] = "Initial cluster token; members and cluster ids derive from it (default 'etcd-cluster').",
        ["heartbeat-interval"] = "Time (in milliseconds) of a heartbeat interval (default 100).",
        ["election-timeout"] = "Time (in milliseconds) for an election to timeout (default 1000).",
        ["snapshot-count"] = "Number of applied entries between two snapshots of the keyspace while it is under 16 MiB (default 100000); larger keyspaces are snapshotted by log bytes (64 MiB, or half the last snapshot).",
        ["max-request-bytes"] = "Maximum client request size in bytes the server will accept (default 1572864).",
        ["quota-backend-bytes"] = "Raise an alarm when the keyspace exceeds this size (default 2 GiB).",
        ["listen-metrics-urls"] = "Extra URLs serving HTTP only: /metrics and /health.",
        ["log-level"] = "debug, info, warn, error, panic or fatal (default info).",
        ["log-format"] = "text or json (default text).",
        ["experimental-watch-progress-notify-interval"] = "Duration between progress notifications to idle watchers that asked for them (default 10m).",
        ["experimental-lease-checkpoint-interval"] = "How often the leader replicates leases' remaining TTLs, so leader changes resume them (Go duration, default 5m).",
        ["auth-token-ttl"] = "Seconds a simple auth token stays valid after its last use on a member (default 300).",
        ["auto-compaction-mode"] = "periodic (keep --auto-compaction-retention of time) or revision (keep that many revisions); default periodic.",
        ["auto-compaction-retention"] = "History the leader keeps when it compacts on its own: hours or a duration (1h, 30m) in periodic mode, revisions in revision mode; 0 (default) = off.",
        ["experimental-wal-sync-off-loop"] = "true: the WAL's writes and fdatasyncs run on a thread of their own while the member goes on; acknowledgements still wait for them (default false).",
        ["experimental-idle-turns-on-callers"] = "true (default): while the member is idle, the thread that brings a request or a peer's message runs the node's turn itself instead of waking the node's thread; false: the node's thread spins for input instead.",
    };

    public static Command Create()
    {
        var command = new Command("serve", "Run one member of a Parley cluster (etcd-compatible flags; PARLEY_<FLAG> environment variables; --config-file).");
        var options = new Dictionary<string, Option<string?>>(StringComparer.Ordinal);
        foreach (var flag in ServerOptionsBuilder.FlagNames)
        {
            var option = new Option<string?>("--" + flag) { Description = Descriptions[flag] + $" [env {ServerOptionsBuilder.EnvironmentVariable(flag)}]" };
            options[flag] = option;
            command.Options.Add(option);
        }
        var configFile = new Option<string?>("--config-file") { Description = "YAML file with the same settings (flat 'name: value'); flags and environment variables win." };
        command.Options.Add(configFile);
        // Hidden and unsafe: makes the member deliberately wrong so that `parley torture` can show it catches it.
        var injectBug = new Option<string?>("--unsafe-inject-bug") { Hidden = true, Description = "UNSAFE, testing only: stale-read." };
        command.Options.Add(injectBug);
        command.SetAction(parseResult =>
        {
            var fromFlags = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (flag, option) in options)
            {
                if (parseResult.GetValue(option) is { } value)
                {
                    fromFlags[flag] = value;
                }
            }
            var configPath = parseResult.GetValue(configFile) ?? Environment.GetEnvironmentVariable("PARLEY_CONFIG_FILE");
            var bug = parseResult.GetValue(injectBug);
            if (bug is not null and not "stale-read")
            {
                Console.Error.WriteLine($"parley serve: --unsafe-inject-bug: '{bug}' is not a known bug (stale-read)");
                return 2;
            }
            return Run(fromFlags, configPath, bug);
        });
        return command;
    }

    private static int Run(Dictionary<string, string> fromFlags, string? configPath, string? injectBug)
    {
        ServerOptions options;
        try
        {
            var fromEnvironment = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var flag in ServerOptionsBuilder.FlagNames)
            {
                if (Environment.GetEnvironmentVariable(ServerOptionsBuilder.EnvironmentVariable(flag)) is { Length: > 0 } value)
                {
                    fromEnvironment[flag] = value;
                }
            }
            var fromFile = configPath is null ? [] : ServerOptionsBuilder.ReadConfigFile(configPath);
            options = ServerOptionsBuilder.Build(ServerOptionsBuilder.Merge(fromFlags, fromEnvironment, fromFile)) with { UnsafeInjectBug = injectBug };
        }
        catch (ServerOptionsException exception)
        {
            Console.Error.WriteLine($"parley serve: {exception.Message}");
            return 2;
        }
        if (injectBug is not null)
        {
            Console.Error.WriteLine($"parley serve: WARNING: running with the deliberately injected bug '{injectBug}' (--unsafe-inject-bug); this member is NOT safe");
        }
        return RunAsync(options).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(ServerOptions options)
    {
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.TrySetResult();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        MemberServer server;
        try
        {
            server = await MemberServer.StartAsync(options).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is ServerOptionsException or StorageRefusedException or StorageCorruptionException)
        {
            Console.Error.WriteLine($"parley serve: {exception.Message}");
            return 1;
        }
        catch (Exception exception) when (exception is SocketException or IOException && exception.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
        {
            Console.Error.WriteLine($"parley serve: cannot listen: {exception.Message} (is another member or etcd using the port?)");
            return 1;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // e.g. --data-dir names a file, or a folder this user may not write
            Console.Error.WriteLine($"parley serve: cannot use the data directory {options.DataDirectory}: {exception.Message}");
            return 1;
        }
        var failed = await Task.WhenAny(stop.Task, server.Failed).ConfigureAwait(false) == server.Failed;
        await server.StopAsync().ConfigureAwait(false);
        return failed ? 1 : 0;
    }
}
