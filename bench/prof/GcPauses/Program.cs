// Every pause a .NET process's GC made, with the collection it belonged to (generation, reason, blocking or
// background), from an EventPipe trace of the runtime's GC events. A member writes one without any tool installed:
//
//   PARLEY_ENV="DOTNET_EnableEventPipe=1 DOTNET_EventPipeOutputPath=/tmp/gc-{pid}.nettrace \
//     DOTNET_EventPipeConfig=Microsoft-Windows-DotNETRuntime:0x1:4" bench/prof/load.sh ...
//   dotnet run -c Release --project bench/prof/GcPauses -- /tmp/gc-PID.nettrace [shortest-ms]
//
// Prints one line per pause at least shortest-ms long (default 10), then totals by generation and reason.
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
var totals = new Dictionary<string, (int Pauses, double Ms)>(StringComparer.Ordinal);
source.Clr.GCSuspendEEStart += suspend =>
{
    suspendedAt = suspend.TimeStampRelativeMSec;
    suspendReason = suspend.Reason.ToString();
};
source.Clr.GCStart += start => current = (GCStartTraceData)start.Clone();
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
return 0;
