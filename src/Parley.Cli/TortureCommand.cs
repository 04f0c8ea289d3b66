using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Parley.Torture;

namespace Parley.Cli;

/// <summary><c>parley torture</c>: fault tests on real member processes (Parley.Torture).</summary>
internal static class TortureCommand
{
    public static Command Create()
    {
        var minutes = new Option<double?>("--minutes") { Description = "Keep starting runs for this many minutes (default: 2 runs unless --runs)." };
        var runs = new Option<int?>("--runs") { Description = "Number of runs (with --minutes, whichever ends first)." };
        var nemesis = new Option<string>("--nemesis")
        {
            Description = "Faults: all, or a comma-separated list of kill, pause, partition, latency, loss, member (none for no faults).",
            DefaultValueFactory = _ => "all",
        };
        var members = new Option<string>("--members") { Description = "Cluster sizes used in turn by successive runs.", DefaultValueFactory = _ => "3,5" };
        var runSeconds = new Option<int>("--run-seconds") { Description = "Seconds of client load per run.", DefaultValueFactory = _ => 20 };
        var operations = new Option<int>("--ops") { Description = "Requests per run at most.", DefaultValueFactory = _ => 1_500 };
        var clients = new Option<int>("--clients") { Description = "Clients per run (default: members + 1; crash mode: 4 writers)." };
        var watchers = new Option<int>("--watchers") { Description = "Watchers of the whole keyspace per run (resuming after breaks).", DefaultValueFactory = _ => 2 };
        var lockUsers = new Option<int>("--lock-users")
        {
            Description = "Clients per run that take one shared lock (Lock service and client recipe) and write a resource fenced by its token.",
            DefaultValueFactory = _ => 3,
        };
        var mode = new Option<string>("--mode")
        {
            Description = "linearizability (register workload under the nemesis) or crash (3 members, writers, repeated SIGKILL of one or all members).",
            DefaultValueFactory = _ => "linearizability",
        };
        var kills = new Option<int>("--kills") { Description = "Crash mode: SIGKILL rounds per run.", DefaultValueFactory = _ => 15 };
        var seed = new Option<int?>("--seed") { Description = "First run's seed (run N uses seed + N - 1); default drawn at random and printed." };
        var output = new Option<string?>("--out") { Description = "Folder for run folders (default: a new folder under the temp directory)." };
        var keep = new Option<bool>("--keep") { Description = "Keep every run's folder, not only the failing ones." };
        var checkTimeout = new Option<double>("--check-timeout") { Description = "Seconds the linearizability checker may spend per run.", DefaultValueFactory = _ => 60 };
        var stopOnAnomaly = new Option<bool>("--stop-on-anomaly") { Description = "Stop after the first run that finds something." };
        var network = new Option<string>("--network")
        {
            Description = "How network faults are made real: netns (every member in its own network namespace; partitions and loss as nftables rules; needs root), "
                + "proxy (a fault-injecting TCP proxy in front of each member's peer port), or auto (netns when running as root and the host can, else proxy).",
            DefaultValueFactory = _ => "auto",
        };
        var injectBug = new Option<string?>("--inject-bug")
        {
            Description = "A deliberately injected bug, to show the checks catch it: stale-read (every member serves stale linearizable reads) or unfenced-lock (lock users write without the token compare).",
        };

        var command = new Command("torture",
            "Fault tests on real `parley serve` clusters: clients record histories while members are killed, paused and partitioned; "
            + "members are replaced and leadership moved; then the history must be linearizable, no acknowledged write lost, every member's HashKV equal, "
            + "watchers complete, lock holders' writes fenced. Exit 0: nothing found; 1: an anomaly; 3: a check ran out of budget.");
        foreach (var option in new Option[] { minutes, runs, nemesis, members, runSeconds, operations, clients, watchers, lockUsers, mode, kills, seed, output, keep, checkTimeout, stopOnAnomaly, network, injectBug })
        {
            command.Options.Add(option);
        }
        command.SetAction(parseResult =>
        {
            var faults = FaultKinds.Parse(parseResult.GetValue(nemesis) ?? "all");
            if (faults is null)
            {
                Console.Error.WriteLine($"parley torture: --nemesis: expected all, none or a list of {string.Join(", ", FaultKinds.Groups.Keys)}");
                return 2;
            }
            var sizes = (parseResult.GetValue(members) ?? "3,5").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(text => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : 0).ToArray();
            if (sizes.Length == 0 || sizes.Any(size => size is < 1 or > 9))
            {
                Console.Error.WriteLine("parley torture: --members: expected sizes from 1 to 9, e.g. 3,5");
                return 2;
            }
            var modeName = parseResult.GetValue(mode);
            if (modeName is not ("linearizability" or "crash"))
            {
                Console.Error.WriteLine("parley torture: --mode: expected linearizability or crash");
                return 2;
            }
            if (NetworkModes.Parse(parseResult.GetValue(network) ?? "auto") is not { } networkMode)
            {
                Console.Error.WriteLine("parley torture: --network: expected auto, netns or proxy");
                return 2;
            }
            if (networkMode == NetworkMode.Netns && !NetnsSupport.Probe.Usable)
            {
                Console.Error.WriteLine("parley torture: --network netns cannot run here: " + NetnsSupport.Probe.Reason);
                return 2;
            }
            var bug = parseResult.GetValue(injectBug);
            if (bug is not null and not (TortureOptions.StaleReadBug or TortureOptions.UnfencedLockBug))
            {
                Console.Error.WriteLine("parley torture: --inject-bug: the known bugs are stale-read and unfenced-lock");
                return 2;
            }
            if (parseResult.GetValue(runSeconds) < 1 || parseResult.GetValue(operations) < 1 || parseResult.GetValue(kills) < 0 || parseResult.GetValue(checkTimeout) <= 0
                || parseResult.GetValue(watchers) < 0 || parseResult.GetValue(lockUsers) < 0 || parseResult.GetValue(runs) is < 1 || parseResult.GetValue(minutes) is <= 0)
            {
                Console.Error.WriteLine("parley torture: --runs, --minutes, --run-seconds, --ops and --check-timeout must be positive (--kills, --watchers and --lock-users not negative)");
                return 2;
            }
            var options = new TortureOptions
            {
                ParleyPath = Path.Combine(AppContext.BaseDirectory, "parley.dll"),
                OutputDirectory = parseResult.GetValue(output)
                    ?? Path.Combine(Path.GetTempPath(), "parley-torture-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)),
                Mode = modeName == "crash" ? TortureMode.Crash : TortureMode.Linearizability,
                Runs = parseResult.GetValue(runs),
                Minutes = parseResult.GetValue(minutes),
                MemberCounts = sizes,
                Faults = faults,
                RunSeconds = parseResult.GetValue(runSeconds),
                OperationsMaxPerRun = parseResult.GetValue(operations),
                Clients = parseResult.GetValue(clients),
                Watchers = parseResult.GetValue(watchers),
                LockUsers = parseResult.GetValue(lockUsers),
                Kills = parseResult.GetValue(kills),
                Seed = parseResult.GetValue(seed) ?? Random.Shared.Next(1, 1_000_000),
                Keep = parseResult.GetValue(keep),
                CheckTimeout = TimeSpan.FromSeconds(parseResult.GetValue(checkTimeout)),
                StopOnAnomaly = parseResult.GetValue(stopOnAnomaly),
                InjectBug = bug,
                Network = networkMode,
            };
            using var stopping = new CancellationTokenSource();
            // Ctrl-C and SIGTERM stop the run the orderly way: members stopped, netns namespaces and rules removed.
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            try
            {
                return TortureRunner.RunAsync(options, Console.Out, stopping.Token).GetAwaiter().GetResult().ExitCode;
            }
            catch (NetnsException exception)
            {
                Console.Error.WriteLine("parley torture: network: " + exception.Message);
                return 2;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                Console.Error.WriteLine($"parley torture: stopped; members stopped{(networkMode == NetworkMode.Proxy ? "" : " and any namespaces, veths and nftables tables removed")}; run folders in {options.OutputDirectory}");
                return 130;
            }

            void Stop(PosixSignalContext context)
            {
                context.Cancel = true;
                stopping.Cancel();
            }
        });
        return command;
    }
}
