using System.CommandLine;


var root = new RootCommand("Parley: a distributed key-value and coordination store that speaks the etcd v3 API.");
// One line per command group; each lives in its own file.

return root.Parse(args).Invoke();
