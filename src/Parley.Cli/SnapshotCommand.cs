using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Parley.Server;
using Parley.Server.Backup;
using Parley.Storage;

namespace Parley.Cli;

/// <summary>
/// <c>parley snapshot restore|status</c>: etcdctl's offline snapshot commands for the files <c>etcdctl snapshot save</c>
/// writes from a Parley member (etcdctl's own status/restore read only etcd's bbolt files). Flag names are etcdctl's;
/// defaults are <c>parley serve</c>'s, so a directory restored with defaults starts with <c>parley serve</c>'s defaults.
/// </summary>
internal static class SnapshotCommand
{
    public static Command Create()
    {
        var snapshot = new Command("snapshot", "Restore a member's data directory from, or describe, a snapshot file taken with `etcdctl snapshot save` from a Parley member.");
        snapshot.Subcommands.Add(CreateRestore());
        snapshot.Subcommands.Add(CreateStatus());
        return snapshot;
    }

    private static Command CreateRestore()
    {
        var file = new Argument<string>("FILE") { Description = "The snapshot file." };
        var name = new Option<string?>("--name") { Description = "Human-readable name for this member (default 'default')." };
        var initialCluster = new Option<string?>("--initial-cluster")
        {
            Description = "The new cluster's members, e.g. 'm1=http://10.0.0.1:2380,m2=http://10.0.0.2:2380' (default '<name>=http://127.0.0.1:2380').",
        };
        var token = new Option<string?>("--initial-cluster-token") { Description = "Initial cluster token for the new cluster (default 'etcd-cluster')." };
        var advertisePeer = new Option<string?>("--initial-advertise-peer-urls")
        {
            Description = "This member's peer URLs; must match its --initial-cluster entry (default: that entry's URLs).",
        };
        var dataDirectory = new Option<string?>("--data-dir") { Description = "The new data directory; must be new or empty (default '<name>.parley')." };
        var skipHashCheck = new Option<bool>("--skip-hash-check") { Description = "Ignore the SHA-256 trailer (the file's own checksum is still verified)." };
        var command = new Command(
            "restore",
            "Write a new member data directory holding the snapshot's keyspace (keys, revisions, leases, users, roles). "
            + "Run it for each member with the same --initial-cluster and --initial-cluster-token, then start each with "
            + "`parley serve` and the same flags. Exit 0: restored; 1: file or directory refused; 2: bad flags.");
        command.Arguments.Add(file);
        foreach (var option in new Option[] { name, initialCluster, token, advertisePeer, dataDirectory, skipHashCheck })
        {
            command.Options.Add(option);
        }
        command.SetAction(parseResult =>
        {
            var flags = new Dictionary<string, string>(StringComparer.Ordinal);
            void Add(string flag, Option<string?> option)
            {
                if (parseResult.GetValue(option) is { Length: > 0 } value)
                {
                    flags[flag] = value;
                }
            }
            Add("name", name);
            Add("initial-cluster", initialCluster);
            Add("initial-cluster-token", token);
            Add("initial-advertise-peer-urls", advertisePeer);
            Add("data-dir", dataDirectory);
            return Restore(parseResult.GetValue(file)!, flags, parseResult.GetValue(skipHashCheck));
        });
        return command;
    }

    private static int Restore(string file, Dictionary<string, string> flags, bool skipHashCheck)
    {
        ServerOptions options;
        try
        {
            if (!flags.ContainsKey("initial-advertise-peer-urls") && flags.TryGetValue("initial-cluster", out var cluster))
            {
                var self = flags.GetValueOrDefault("name", "default");
                var urls = PeerUrlsOf(cluster, self);
                if (urls.Length > 0)
                {
                    flags["initial-advertise-peer-urls"] = urls;
                }
            }
            options = ServerOptionsBuilder.Build(flags);
        }
        catch (ServerOptionsException exception)
        {
            Console.Error.WriteLine($"parley snapshot restore: {exception.Message}");
            return 2;
        }
        RestoredMember restored;
        try
        {
            restored = SnapshotRestore.Restore(file, options, skipHashCheck);
        }
        catch (Exception exception) when (exception is SnapshotFileException or StorageRefusedException)
        {
            Console.Error.WriteLine($"parley snapshot restore: {exception.Message}");
            return 1;
        }
        var members = string.Join(", ", restored.Members.Select(member => $"{member.Name} ({member.Id:x})"));
        Console.WriteLine(
            $"restored {file} (revision {restored.Revision}, {restored.KeyCount} keys) into {restored.DataDirectory}: "
            + $"member {restored.Name} ({restored.MemberId:x}) of cluster {restored.ClusterId:x} with {members}");
        Console.WriteLine(
            $"start it with: parley serve --name {restored.Name} --data-dir {restored.DataDirectory} "
            + $"--initial-cluster {string.Join(",", options.InitialCluster.Select(member => string.Join(",", member.PeerUrls.Select(url => $"{member.Name}={MemberIdentity.Normalize(url)}"))))} "
            + $"--initial-cluster-token {options.InitialClusterToken} (and its --listen-* URLs)");
        return 0;
    }

    /// <summary>The URLs --initial-cluster gives <paramref name="name"/>, comma-separated (empty if none: the options builder says so).</summary>
    private static string PeerUrlsOf(string initialCluster, string name) =>
        string.Join(",", initialCluster.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(part => part.StartsWith(name + "=", StringComparison.Ordinal))
            .Select(part => part[(name.Length + 1)..]));

    private static Command CreateStatus()
    {
        var file = new Argument<string>("FILE") { Description = "The snapshot file." };
        var writeOut = new Option<string>("--write-out", "-w") { Description = "simple, table or json (as etcdctl).", DefaultValueFactory = _ => "simple" };
        var command = new Command(
            "status",
            "Verify a snapshot file and print its hash (the keyspace's HashKV, as `etcdctl endpoint hashkv` prints it), "
            + "revision, total keys and size. Exit 0: ok; 1: refused (corrupt, truncated, not a Parley snapshot); 2: bad flags.");
        command.Arguments.Add(file);
        command.Options.Add(writeOut);
        command.SetAction(parseResult => Status(parseResult.GetValue(file)!, parseResult.GetValue(writeOut)!));
        return command;
    }

    private static int Status(string file, string writeOut)
    {
        if (writeOut is not ("simple" or "table" or "json"))
        {
            Console.Error.WriteLine($"parley snapshot status: --write-out: '{writeOut}' is not one of simple, table, json");
            return 2;
        }
        SnapshotStatus status;
        try
        {
            status = SnapshotStatus.Read(file);
        }
        catch (SnapshotFileException exception)
        {
            Console.Error.WriteLine($"parley snapshot status: {exception.Message}");
            return 1;
        }
        var hash = status.Hash.ToString("x", CultureInfo.InvariantCulture);
        var revision = status.Revision.ToString(CultureInfo.InvariantCulture);
        var keys = status.TotalKeys.ToString(CultureInfo.InvariantCulture);
        var size = HumanBytes(status.TotalBytes);
        switch (writeOut)
        {
            case "json":
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["hash"] = status.Hash, ["revision"] = status.Revision, ["totalKey"] = status.TotalKeys, ["totalSize"] = status.TotalBytes,
                }));
                break;
            case "table":
                Console.Write(Table(["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"], [hash, revision, keys, size]));
                break;
            default:
                Console.WriteLine($"{hash}, {revision}, {keys}, {size}");
                break;
        }
        return 0;
    }

    /// <summary>A size as etcdctl prints it (go-humanize's SI form: "512 B", "1.5 kB", "25 kB").</summary>
    internal static string HumanBytes(long bytes)
    {
        if (bytes < 10)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{bytes} B");
        }
        string[] units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
        var exponent = (int)Math.Floor(Math.Log(bytes) / Math.Log(1000));
        var value = Math.Floor(bytes / Math.Pow(1000, exponent) * 10 + 0.5) / 10;
        return value.ToString(value < 10 ? "F1" : "F0", CultureInfo.InvariantCulture) + " " + units[exponent];
    }

    /// <summary>etcdctl's table: centred headers, right-aligned values, one space of padding.</summary>
    private static string Table(string[] headers, string[] values)
    {
        var widths = headers.Select((header, i) => Math.Max(header.Length, values[i].Length)).ToArray();
        var rule = "+" + string.Join("+", widths.Select(width => new string('-', width + 2))) + "+\n";
        var text = new StringBuilder(rule);
        text.Append("| ").Append(string.Join(" | ", headers.Select((header, i) =>
        {
            var left = (widths[i] - header.Length) / 2;
            return new string(' ', left) + header + new string(' ', widths[i] - header.Length - left);
        }))).Append(" |\n").Append(rule);
        text.Append("| ").Append(string.Join(" | ", values.Select((value, i) => value.PadLeft(widths[i])))).Append(" |\n").Append(rule);
        return text.ToString();
    }
}
