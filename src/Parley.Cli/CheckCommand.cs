using System.CommandLine;
using Parley.Checker.Formats;
using Parley.Checker.Reporting;
using Parley.Checker.Search;

namespace Parley.Cli;

/// <summary><c>parley check linearizability</c>: checks recorded histories with Parley.Checker.</summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var check = new Command("check", "Check recorded histories for correctness.");
        check.Subcommands.Add(CreateLinearizability());
        return check;
    }

    private static Command CreateLinearizability()
    {
        var format = new Option<string>("--format")
        {
            Description = "Input format (required): jepsen-register (Jepsen register log), kv-edn (Jepsen EDN op maps, per-key string map) or parley (JSON lines, etcd model; docs/history-format.md).",
        };
        var timeout = new Option<double>("--timeout")
        {
            Description = "Seconds per file before giving up with 'unknown'.",
            DefaultValueFactory = _ => 60,
        };
        var visualize = new Option<string?>("--visualize")
        {
            Description = "Directory to write an HTML timeline of each violation into.",
        };
        var statistics = new Option<bool>("--stats")
        {
            Description = "Print operations, partitions, model steps and time per file (to standard error).",
        };
        var files = new Argument<string[]>("FILE")
        {
            Description = "History files to check.",
            // Checked in the action rather than by the parser, whose errors exit 1 ("not linearizable").
            Arity = ArgumentArity.ZeroOrMore,
        };

        var command = new Command(
            "linearizability",
            "Decide whether each history is linearizable (Wing & Gong / Lowe search, partitioned by key where the model allows). "
            + "Prints 'FILE: linearizable|not linearizable|unknown|unreadable'. Exit 0: all linearizable; 1: any not linearizable; "
            + "2: any unreadable; 3: any unknown (budget ran out).");
        command.Options.Add(format);
        command.Options.Add(timeout);
        command.Options.Add(visualize);
        command.Options.Add(statistics);
        command.Arguments.Add(files);
        command.SetAction(parseResult =>
        {
            var seconds = parseResult.GetValue(timeout);
            if (seconds <= 0 || double.IsNaN(seconds))
            {
                Console.Error.WriteLine("parley: --timeout must be a positive number of seconds");
                return CheckExitCode.UnreadableInput;
            }

            var formatName = parseResult.GetValue(format);
            if (formatName is null || !HistoryFileChecker.TryParseFormat(formatName, out var historyFormat))
            {
                Console.Error.WriteLine("parley: --format must be jepsen-register, kv-edn or parley");
                return CheckExitCode.UnreadableInput;
            }

            var paths = parseResult.GetValue(files) ?? [];
            if (paths.Length == 0)
            {
                Console.Error.WriteLine("parley: name at least one history FILE");
                return CheckExitCode.UnreadableInput;
            }

            var options = new CheckOptions { Timeout = TimeSpan.FromSeconds(seconds) };
            return LinearizabilityCommand.Run(
                paths,
                historyFormat,
                options,
                parseResult.GetValue(visualize),
                parseResult.GetValue(statistics),
                Console.Out,
                Console.Error);
        });
        return command;
    }
}
