using System.CommandLine;
using System.Runtime.InteropServices;
using Parley.Bench.Comparison;
using Spectre.Console;

namespace Parley.Bench;

/// <summary>
/// <c>parley bench [workload]</c> and <c>parley bench compare</c>. Both handle Ctrl-C and SIGTERM themselves:
/// the run stops, what was measured is printed, and compare stops every server it started.
/// </summary>
public static class BenchCommand
{
    private const int RedirectedWidthColumns = 200;

    public static Command Create()
    {
        var command = new Command("bench", "Load generator for the etcd v3 API (drives Parley and etcd alike); 'bench compare' runs etcd and Parley side by side.");
        var parser = new BenchOptionsParser();
        parser.AddTo(command);
        command.SetAction(parseResult => Run(() => parser.Bind(parseResult), RunBenchAsync));
        var compare = new Command("compare", "Start a fresh etcd cluster and a fresh Parley cluster on 127.0.0.1, run the same workloads on both, print ratios, write compare.json and compare.svg.");
        var compareParser = new CompareOptionsParser();
        compareParser.AddTo(compare);
        compare.SetAction(parseResult => Run(() => compareParser.Bind(parseResult), (options, token) => RunCompareAsync(options, parseResult, token)));
        command.Subcommands.Add(compare);
        return command;
    }

    private static int Run<TOptions>(Func<TOptions> bind, Func<TOptions, CancellationToken, Task<int>> run)
    {
        TOptions options;
        try
        {
            options = bind();
        }
        catch (BenchOptionsException exception)
        {
            Console.Error.WriteLine("parley bench: " + exception.Message);
            return 2;
        }
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = RedirectedWidthColumns; // tables in logs and files are not cut to 80 columns
        }
        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            return run(options, stop.Token).GetAwaiter().GetResult();
        }
        catch (BenchOptionsException exception)
        {
            Console.Error.WriteLine("parley bench: " + exception.Message);
            return 1;
        }
    }

    private static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    private static async Task<int> RunBenchAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        using var runner = new BenchRunner(options);
        var quiet = !options.Progress || options.Output == OutputFormat.Json;
        var title = $"bench {WorkloadNames.Name(options.Workload)} on {string.Join(",", options.Endpoints)}";
        BenchResult result;
        try
        {
            result = await ProgressDisplay.ShowAsync(runner.Progress, title, Interactive, quiet, async () =>
            {
                await runner.ConnectAsync(cancellationToken).ConfigureAwait(false);
                await runner.PreloadAsync(cancellationToken).ConfigureAwait(false);
                // Without the live display, the end of the warm-up is said on stderr (a script can start its own counters there).
                var measuring = options.Warmup > TimeSpan.Zero && !Interactive ? () => Console.Error.WriteLine("parley bench: warm-up done; measuring") : (Action?)null;
                return await runner.RunAsync(cancellationToken, measuring).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OperationCanceledException or Grpc.Core.RpcException && cancellationToken.IsCancellationRequested)
        {
            Console.Error.WriteLine("parley bench: stopped before the measured phase");
            return 130;
        }
        catch (Grpc.Core.RpcException exception)
        {
            Console.Error.WriteLine($"parley bench: {exception.StatusCode}: {exception.Status.Detail}");
            return 1;
        }
        var json = BenchJson.Serialize(result);
        if (options.JsonPath is { } path)
        {
            await File.WriteAllTextAsync(path, json + Environment.NewLine, cancellationToken: CancellationToken.None).ConfigureAwait(false);
        }
        if (options.Output == OutputFormat.Json)
        {
            Console.WriteLine(json);
        }
        else
        {
            AnsiConsole.Write(ResultTable.Build(result));
        }
        return result.Cancelled ? 130 : result.Errors > 0 && result.Operations == 0 ? 1 : 0;
    }

    private static async Task<int> RunCompareAsync(CompareOptions options, ParseResult parseResult, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(options.TimeLimit);
        var log = options.Output == OutputFormat.Json ? (Action<string>)(line => Console.Error.WriteLine(line)) : line => AnsiConsole.WriteLine(line);
        var runner = new CompareRunner(options, log, Interactive);
        var commandLine = "parley " + string.Join(" ", parseResult.Tokens.Select(token => token.Value));
        var result = await runner.RunAsync(commandLine, limit.Token).ConfigureAwait(false);
        Directory.CreateDirectory(options.OutputDirectory);
        var json = BenchJson.Serialize(result);
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "compare.json"), json + Environment.NewLine, CancellationToken.None).ConfigureAwait(false);
        if (options.JsonPath is { } path)
        {
            await File.WriteAllTextAsync(path, json + Environment.NewLine, CancellationToken.None).ConfigureAwait(false);
        }
        if (result.Sweep.Count > 0)
        {
            var title = $"put, {options.Members} members, {options.ValueSizeBytes} B values: etcd vs Parley ({DateTime.UtcNow:yyyy-MM-dd})";
            await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "compare.svg"), SvgChart.Render(result.Sweep, title), CancellationToken.None).ConfigureAwait(false);
        }
        if (options.Output == OutputFormat.Json)
        {
            Console.WriteLine(json);
        }
        else
        {
            foreach (var table in CompareReport.Build(result))
            {
                AnsiConsole.Write(table);
            }
            AnsiConsole.WriteLine($"results: {Path.GetFullPath(options.OutputDirectory)} (compare.json{(result.Sweep.Count > 0 ? ", compare.svg" : "")})");
        }
        if (result.Error is { } error)
        {
            Console.Error.WriteLine("parley bench compare: " + error);
            return 1;
        }
        return result.Cancelled ? 130 : 0;
    }
}
