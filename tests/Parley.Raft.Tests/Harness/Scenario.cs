using System.Runtime.CompilerServices;
using System.Text;
using Parley.Raft;

namespace Parley.Raft.Tests.Harness;

/// <summary>
/// Runs a scripted scenario (etcd-io/raft's datadriven style). A file is a sequence of blocks: comment lines
/// (<c>#</c>) and blank lines are kept as they are; a command line is followed by <c>----</c> and its output up to
/// the next blank line. The run regenerates the whole file and compares it with the stored one;
/// <c>PARLEY_REWRITE_GOLDEN=1</c> writes the regenerated file instead.
/// </summary>
internal sealed class Scenario
{
    public const string RewriteVariable = "PARLEY_REWRITE_GOLDEN";

    private TestCluster? _cluster;

    private TestCluster Cluster => _cluster ?? throw new InvalidOperationException("add-nodes first");

    public static string TestDataPath(string fileName, [CallerFilePath] string harnessFile = "") =>
        Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(harnessFile)!)!, "testdata", fileName);

    /// <summary>Runs the scenario in <paramref name="fileName"/> and checks (or rewrites) its golden output.</summary>
    public static void Run(string fileName)
    {
        var path = TestDataPath(fileName);
        var expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        var actual = new Scenario().Execute(expected);
        if (Environment.GetEnvironmentVariable(RewriteVariable) == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }
        if (actual == expected)
        {
            return;
        }
        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        var line = 0;
        while (line < expectedLines.Length && line < actualLines.Length && expectedLines[line] == actualLines[line])
        {
            line++;
        }
        var want = line < expectedLines.Length ? expectedLines[line] : "<end of file>";
        var got = line < actualLines.Length ? actualLines[line] : "<end of file>";
        Assert.Fail($"{fileName}:{line + 1}: expected\n  {want}\nbut the run printed\n  {got}\n" +
                    $"(set {RewriteVariable}=1 to regenerate after checking the change is intended)");
    }

    private string Execute(string script)
    {
        var lines = script.TrimEnd('\n').Split('\n');
        var output = new StringBuilder();
        var i = 0;
        while (i < lines.Length)
        {
            var line = lines[i++];
            if (line.Length == 0 || line.StartsWith('#'))
            {
                output.Append(line).Append('\n');
                continue;
            }
            if (i < lines.Length && lines[i] == "----")
            {
                while (i < lines.Length && lines[i].Length > 0)
                {
                    i++;
                }
            }
            if (i < lines.Length && lines[i].Length == 0)
            {
                i++;
            }
            var result = RunCommand(line);
            output.Append(line).Append("\n----\n");
            output.Append(result.Count == 0 ? "ok\n" : string.Join("\n", result) + "\n");
            output.Append('\n');
        }
        return output.ToString().TrimEnd('\n') + "\n";
    }

    private List<string> RunCommand(string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var arguments = words.Skip(1).Where(w => !w.Contains('=', StringComparison.Ordinal)).ToArray();
        var options = words.Skip(1).Where(w => w.Contains('=', StringComparison.Ordinal))
            .ToDictionary(w => w[..w.IndexOf('=', StringComparison.Ordinal)], w => w[(w.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        var output = new List<string>();
        switch (words[0])
        {
            case "add-nodes":
                AddNodes(int.Parse(arguments[0]), options);
                output.AddRange(Cluster.Nodes.Select(n => Describe.Status(n.Raft)));
                break;
            case "campaign":
                Cluster[Id(arguments[0])].Raft.Campaign(transfer: false);
                break;
            case "propose":
                var result = Cluster[Id(arguments[0])].Raft.Propose(Encoding.UTF8.GetBytes(arguments[1]));
                output.Add(result.IsAccepted ? $"accepted at {result.Index}" : $"refused: {result.Status}");
                break;
            case "tick":
                for (var n = 0; n < (arguments.Length > 1 ? int.Parse(arguments[1]) : 1); n++)
                {
                    Cluster[Id(arguments[0])].Raft.Tick();
                }
                break;
            case "tick-heartbeat":
                var heartbeatNode = Cluster[Id(arguments[0])];
                for (var n = 0; n < heartbeatNode.Options.HeartbeatIntervalTicks; n++)
                {
                    heartbeatNode.Raft.Tick();
                }
                break;
            case "process-ready":
                foreach (var id in Ids(arguments))
                {
                    var ready = Cluster.ProcessReady(id);
                    output.AddRange(ready is null ? [$"> {id}: no Ready"] : Describe.Ready(id, ready));
                }
                break;
            case "deliver-msgs":
                var to = Ids(arguments);
                Cluster.OnDropped = message => output.Add($"dropped: {Describe.Message(message)}");
                foreach (var message in Cluster.Deliver(m => to.Contains(m.To)))
                {
                    output.Add($"deliver: {Describe.Message(message)}");
                }
                Cluster.OnDropped = null;
                break;
            case "drop-msgs":
                var dropTo = Ids(arguments);
                output.Add($"dropped {Cluster.DropQueued(m => dropTo.Contains(m.To))} messages");
                break;
            case "stabilize":
                Stabilize(arguments.Length == 0 ? null : Ids(arguments), output);
                break;
            case "isolate":
                Cluster.Isolate(Id(arguments[0]));
                break;
            case "partition":
                Cluster.Partition(arguments.Select(Ids).ToArray());
                break;
            case "heal":
                Cluster.Heal();
                break;
            case "restart":
                Cluster[Id(arguments[0])].Restart();
                output.Add(Describe.Status(Cluster[Id(arguments[0])].Raft));
                break;
            case "status":
                foreach (var node in Cluster.Nodes)
                {
                    output.Add(Describe.Status(node.Raft));
                }
                break;
            case "log":
                var logNode = Cluster[Id(arguments[0])].Raft;
                var entries = logNode.Log.LastIndex >= logNode.Log.FirstIndex
                    ? logNode.Log.Slice(logNode.Log.FirstIndex, logNode.Log.LastIndex + 1, long.MaxValue, int.MaxValue)
                    : [];
                output.Add(entries.Count == 0 ? "empty" : Describe.Entries(entries));
                break;
            case "read-index":
                var accepted = Cluster[Id(arguments[0])].Raft.ReadIndex(ulong.Parse(arguments[1]));
                output.Add(accepted ? "requested" : "refused: no leader");
                break;
            case "transfer":
                Cluster[Id(arguments[0])].Raft.TransferLeadership(Id(arguments[1]));
                break;
            default:
                throw new InvalidOperationException($"unknown command '{words[0]}'");
        }
        return output;
    }

    private void AddNodes(int voters, Dictionary<string, string> options)
    {
        var learners = options.TryGetValue("learners", out var l) ? int.Parse(l) : 0;
        _cluster = new TestCluster(voters, learners, o => o with
        {
            PreVote = !options.TryGetValue("prevote", out var preVote) || bool.Parse(preVote),
            CheckQuorum = !options.TryGetValue("checkquorum", out var checkQuorum) || bool.Parse(checkQuorum),
            ElectionTimeoutTicks = options.TryGetValue("election", out var election) ? int.Parse(election) : o.ElectionTimeoutTicks,
            EntriesPerMessageMax = options.TryGetValue("entries-per-msg", out var perMessage) ? int.Parse(perMessage) : o.EntriesPerMessageMax,
        });
    }

    private void Stabilize(ulong[]? only, List<string> output)
    {
        Cluster.OnReady = (node, ready) => output.AddRange(Describe.Ready(node.Id, ready));
        Cluster.OnDropped = message => output.Add($"dropped: {Describe.Message(message)}");
        Cluster.Stabilize(only: only);
        Cluster.OnReady = null;
        Cluster.OnDropped = null;
    }

    private static ulong Id(string text) => ulong.Parse(text);

    private static ulong[] Ids(string text) => text.Split(',').Select(ulong.Parse).ToArray();

    private static ulong[] Ids(string[] arguments) => arguments.SelectMany(Ids).ToArray();
}
