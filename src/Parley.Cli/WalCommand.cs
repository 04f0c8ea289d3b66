using System.CommandLine;
using System.Globalization;
using Parley.Raft;
using Parley.Storage;

namespace Parley.Cli;

/// <summary><c>parley wal inspect</c> (and <c>parley wal bench</c>): look into a member's write-ahead log.</summary>
internal static class WalCommand
{
    public static Command Create()
    {
        var wal = new Command("wal", "Inspect and measure write-ahead logs (Parley.Storage).");
        wal.Subcommands.Add(CreateInspect());
        wal.Subcommands.Add(CreateEntries());
        wal.Subcommands.Add(WalBenchCommand.Create());
        return wal;
    }

    private static Option<string> DataDirectoryOption() => new("--data-dir")
    {
        Description = "The member's data directory (holds member.parley, wal/ and snap/).",
        Required = true,
    };

    /// <summary>The directory as an absolute path, or null (said on stderr) when it does not exist.</summary>
    private static string? ExistingDirectory(string dataDirectory)
    {
        var path = Path.GetFullPath(dataDirectory);
        if (Directory.Exists(path))
        {
            return path;
        }
        Console.Error.WriteLine($"parley: {path} does not exist");
        return null;
    }

    private static Command CreateInspect()
    {
        var dataDirectory = DataDirectoryOption();
        var command = new Command(
            "inspect",
            "List segments (record counts, index and term ranges), snapshots, and verify every checksum. Changes nothing. "
            + "Exit 0: healthy (a torn tail from a crash is reported but healthy: it is truncated at the next start); "
            + "1: corrupt or not usable by this build; 2: no such directory.");
        command.Options.Add(dataDirectory);
        command.SetAction(parseResult => Inspect(parseResult.GetValue(dataDirectory)!));
        return command;
    }

    private static int Inspect(string dataDirectory)
    {
        if (ExistingDirectory(dataDirectory) is not { } path)
        {
            return 2;
        }
        var report = WalInspector.Inspect(new RealFileSystem(), path);
        var output = Console.Out;
        output.WriteLine($"data directory {report.DataDirectory}");
        if (report.Identity is { } identity)
        {
            output.WriteLine($"  {identity}, storage format version {StorageFormat.Version}");
        }
        output.WriteLine($"segments: {report.Segments.Count}");
        foreach (var segment in report.Segments)
        {
            var range = segment.Entries == 0
                ? "no entries"
                : $"{segment.Entries} entries, index {segment.FirstIndex}..{segment.LastIndex}, term {segment.FirstTerm}..{segment.LastTerm}";
            var status = segment.Damage is null ? "crc ok" : $"DAMAGED: {segment.Damage}";
            output.WriteLine(
                $"  {Path.GetFileName(segment.File)}  size {Bytes(segment.SizeBytes)}  used {Bytes(segment.DataEndOffset)}  {range}; "
                + $"{segment.HardStates} hard states, {segment.SnapshotMarkers} snapshot markers, {segment.SyncGroups} syncs  {status}");
        }
        output.WriteLine($"snapshots: {report.Snapshots.Count}");
        foreach (var snapshot in report.Snapshots)
        {
            output.WriteLine(
                $"  {Path.GetFileName(snapshot.File)}  index {snapshot.Index} term {snapshot.Term}  {Bytes(snapshot.SizeBytes)}  " +
                $"{(snapshot.Problem is null ? "crc ok" : "DAMAGED: " + snapshot.Problem)}" +
                $"{(snapshot.MarkedInWal ? "" : "  (not recorded in the WAL: ignored at start)")}");
        }
        if (report.TornTail is { } torn)
        {
            output.WriteLine($"torn tail (from a crash; truncated at the next start): {Path.GetFileName(torn.File)} offset {torn.Offset}: {torn.Problem}");
        }
        if (report.Healthy)
        {
            output.WriteLine("verdict: ok");
            return 0;
        }
        output.WriteLine($"verdict: CORRUPT OR UNUSABLE: {report.Problem}");
        return 1;
    }

    private static Command CreateEntries()
    {
        var dataDirectory = DataDirectoryOption();
        var configOnly = new Option<bool>("--config-changes")
        {
            Description = "Only membership changes and changes of term or vote, not every entry and commit.",
        };
        var command = new Command(
            "entries",
            "Print the log as the WAL holds it, one line per entry (index, term, type, size; membership changes decoded) "
            + "and per change of hard state (term, vote, commit). An index written again after a conflict shows twice: the later line counts. "
            + "Changes nothing. Exit 0, or 2 when the directory is missing or unreadable.");
        command.Options.Add(dataDirectory);
        command.Options.Add(configOnly);
        command.SetAction(parseResult => Entries(parseResult.GetValue(dataDirectory)!, parseResult.GetValue(configOnly)));
        return command;
    }

    private static int Entries(string dataDirectory, bool configOnly)
    {
        if (ExistingDirectory(dataDirectory) is not { } path)
        {
            return 2;
        }
        IReadOnlyList<WalLogRecord> records;
        try
        {
            records = WalInspector.Records(new RealFileSystem(), path);
        }
        catch (Exception exception) when (exception is StorageRefusedException or StorageCorruptionException or IOException)
        {
            Console.Error.WriteLine($"parley: {exception.Message}");
            return 2;
        }
        var output = Console.Out;
        var lastHardState = HardState.Empty;
        foreach (var record in records)
        {
            var where = $"{record.Segment}@{record.Offset}";
            if (record.HardState is { } hardState)
            {
                if (configOnly && hardState.Term == lastHardState.Term && hardState.Vote == lastHardState.Vote)
                {
                    continue;
                }
                lastHardState = hardState;
                output.WriteLine($"{where}  hard state  term {hardState.Term}  vote {Id(hardState.Vote)}  commit {hardState.Commit}");
                continue;
            }
            var entry = record.Entry!.Value;
            if (entry.Type == EntryType.ConfigChange)
            {
                var change = ConfigChange.TryDecode(entry.Data.Span, out var decoded)
                    ? $"{decoded.Type} {Id(decoded.NodeId)}"
                    : "undecodable";
                output.WriteLine($"{where}  entry {entry.Index} term {entry.Term}  config change: {change}");
            }
            else if (!configOnly)
            {
                output.WriteLine($"{where}  entry {entry.Index} term {entry.Term}  {(entry.Data.IsEmpty ? "no-op" : Bytes(entry.Data.Length))}");
            }
        }
        return 0;
    }

    private static string Id(ulong id) => id == 0 ? "none" : id.ToString("x16", CultureInfo.InvariantCulture);

    internal static string Bytes(long bytes) => bytes switch
    {
        >= 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0 / 1024.0:F1} MiB"),
        >= 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => $"{bytes} B",
    };
}
