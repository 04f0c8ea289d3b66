using System.CommandLine;
using System.Globalization;
using Parley.Storage;

namespace Parley.Cli;

/// <summary><c>parley wal inspect</c> (and <c>parley wal bench</c>): look into a member's write-ahead log.</summary>
internal static class WalCommand
{
    public static Command Create()
    {
        var wal = new Command("wal", "Inspect and measure write-ahead logs (Parley.Storage).");
        wal.Subcommands.Add(CreateInspect());
        wal.Subcommands.Add(WalBenchCommand.Create());
        return wal;
    }

    private static Command CreateInspect()
    {
        var dataDirectory = new Option<string>("--data-dir")
        {
            Description = "The member's data directory (holds member.parley, wal/ and snap/).",
            Required = true,
        };
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
        var path = Path.GetFullPath(dataDirectory);
        if (!Directory.Exists(path))
        {
            Console.Error.WriteLine($"parley: {path} does not exist");
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

    internal static string Bytes(long bytes) => bytes switch
    {
        >= 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0 / 1024.0:F1} MiB"),
        >= 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => $"{bytes} B",
    };
}
