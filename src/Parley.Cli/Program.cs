using System.CommandLine;
using Parley.Bench;
using Parley.Cli;


var root = new RootCommand("Parley: a distributed key-value and coordination store that speaks the etcd v3 API.");
// One line per command group; each lives in its own file.
root.Subcommands.Add(SimCommand.Create());
root.Subcommands.Add(CheckCommand.Create());
root.Subcommands.Add(WalCommand.Create());
root.Subcommands.Add(SnapshotCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(DevCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(TortureCommand.Create());

return root.Parse(args).Invoke();
