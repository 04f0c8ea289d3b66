// Every pause a .NET process's GC made, with the collection it belonged to (generation, reason, blocking or
// background), from an EventPipe trace of the runtime's GC events. A member writes one without any tool installed:
//
//   PARLEY_ENV="DOTNET_EnableEventPipe=1 DOTNET_EventPipeOutputPath=/tmp/gc-{pid}.nettrace \
//     DOTNET_EventPipeConfig=Microsoft-Windows-DotNETRuntime:0x1:4" bench/prof/load.sh ...
//   dotnet run -c Release --project bench/prof/GcPauses -- /tmp/gc-PID.nettrace [shortest-ms]
//
// Prints one line per pause at least shortest-ms long (default 10), then totals by generation and reason, then for each
// collection how long suspending the runtime took and how long the collection itself took, what it marked by where the
// references came from (stacks, handles, older generations' cards, ...), what it promoted and the generations' sizes.
using System.Globalization;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

if (args.Length is < 1 or > 2 || (args.Length == 2 && !double.TryParse(args[1], CultureInfo.InvariantCulture, out _)))
{
    Console.Error.WriteLine("usage: GcPauses TRACE.nettrace [shortest-ms]");
    return 2;
}
var shortest = args.Length == 2 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 10;
using var source = new EventPipeEventSource(args[0]);
double suspendedAt = -1;
string suspendReason = "";
GCStartTraceData? current = null;  // the latest collection started (a background one spans several pauses, and
                                   // gen0/gen1 collections may start inside it: its last pause is then shown under those)
var pauses = new List<(double At, double Ms, string Gc)>();
// What each collection marked, by where the references came from (stacks, handles, older generations' cards, ...),
// and what it promoted: printed after the pauses.
var marks = new Dictionary<int, Dictionary<string, long>>();
var promoted = new Dictionary<int, string>();
source.Clr.GCMarkWithType += mark =>
{
    if (current is { } gc)
    {
        var byType = marks.TryGetValue(gc.Count, out var found) ? found : marks[gc.Count] = [];
        var type = mark.Type switch { 0 => "stack", 1 => "finalizer", 2 => "handles", 3 => "older", 4 => "sizedref", 5 => "overflow", 6 => "dependent", 7 => "new", _ => "type" + mark.Type };
        byType[type] = byType.GetValueOrDefault(type) + mark.Promoted;
    }
};
source.Clr.GCHeapStats += stats =>
{
    if (current is { } gc)
    {
        promoted[gc.Count] = string.Create(CultureInfo.InvariantCulture,
            $"promoted gen0 {stats.TotalPromotedSize0 / 1e6:0.0} MB, gen1 {stats.TotalPromotedSize1 / 1e6:0.0} MB; sizes gen0 {stats.GenerationSize0 / 1e6:0} gen1 {stats.GenerationSize1 / 1e6:0} gen2 {stats.GenerationSize2 / 1e6:0} loh {stats.GenerationSize3 / 1e6:0} poh {stats.GenerationSize4 / 1e6:0} MB");
    }
};
var totals = new Dictionary<string, (int Pauses, double Ms)>(StringComparer.Ordinal);
source.Clr.GCSuspendEEStart += suspend =>
{
    suspendedAt = suspend.TimeStampRelativeMSec;
    suspendReason = suspend.Reason.ToString();
};
double suspendedIn = 0, gcStartedAt = 0;
var phases = new List<string>();
source.Clr.GCSuspendEEStop += stop => suspendedIn = suspendedAt >= 0 ? stop.TimeStampRelativeMSec - suspendedAt : 0;
source.Clr.GCStart += start =>
{
    current = (GCStartTraceData)start.Clone();
    gcStartedAt = start.TimeStampRelativeMSec;
};
source.Clr.GCStop += stop => phases.Add(string.Create(CultureInfo.InvariantCulture,
    $"#{current?.Count}: suspending took {suspendedIn:0.0} ms, the collection {stop.TimeStampRelativeMSec - gcStartedAt:0.0} ms"));
source.Clr.GCRestartEEStop += restart =>
{
    if (suspendedAt < 0)
    {
        return;
    }
    var ms = restart.TimeStampRelativeMSec - suspendedAt;
    var gc = current is { } c ? $"gen{c.Depth} {c.Type} {c.Reason} (#{c.Count})" : $"no GC ({suspendReason})";
    pauses.Add((suspendedAt, ms, gc));
    var key = current is { } k ? $"gen{k.Depth} {k.Type} {k.Reason}" : $"no GC ({suspendReason})";
    var (count, sum) = totals.GetValueOrDefault(key);
    totals[key] = (count + 1, sum + ms);
    suspendedAt = -1;
};
source.Process();
foreach (var (at, ms, gc) in pauses.Where(pause => pause.Ms >= shortest))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{at / 1000,9:0.000} s  {ms,8:0.0} ms  {gc}"));
}
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"--- {pauses.Count} pauses, {pauses.Sum(pause => pause.Ms):0.0} ms in all, longest {(pauses.Count > 0 ? pauses.Max(pause => pause.Ms) : 0):0.0} ms"));
foreach (var (key, (count, sum)) in totals.OrderByDescending(pair => pair.Value.Ms))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{sum,9:0.0} ms in {count,4} pauses  {key}"));
}
foreach (var phase in phases)
{
    Console.WriteLine(phase);
}
foreach (var (count, byType) in marks.OrderBy(pair => pair.Key))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"#{count}: marked {string.Join(", ", byType.Where(pair => pair.Value > 0).Select(pair => $"{pair.Key} {pair.Value / 1e6:0.0} MB"))}; {promoted.GetValueOrDefault(count)}"));
}
return 0;
