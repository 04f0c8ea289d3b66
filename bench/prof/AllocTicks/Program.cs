// Where a .NET process allocates: the GC's AllocationTick events (one per ~100 KB allocated, with the type and the
// stack of the allocation that crossed the mark) from a dotnet-trace file, summed by type and by stack.
//
//   dotnet-trace collect -p PID --profile gc-verbose --duration 00:00:00:10 -o member.nettrace
//   dotnet run -c Release --project bench/prof/AllocTicks -- member.nettrace [frames]
//
// Prints each type's and each stack's share of the sampled bytes (frames: how many frames of each stack, default 6).
using System.Globalization;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

if (args.Length is < 1 or > 2 || (args.Length == 2 && !int.TryParse(args[1], CultureInfo.InvariantCulture, out _)))
{
    Console.Error.WriteLine("usage: AllocTicks TRACE.nettrace [frames]");
    return 2;
}
var frames = args.Length == 2 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 6;
using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(args[0]));
var byType = new Dictionary<string, double>(StringComparer.Ordinal);
var byStack = new Dictionary<string, double>(StringComparer.Ordinal);
double total = 0;
foreach (var traceEvent in log.Events)
{
    if (traceEvent is not GCAllocationTickTraceData tick)
    {
        continue;
    }
    double bytes = tick.AllocationAmount64;
    total += bytes;
    byType[tick.TypeName] = byType.GetValueOrDefault(tick.TypeName) + bytes;
    var path = new List<string>();
    for (var frame = traceEvent.CallStack(); frame is not null && path.Count < frames; frame = frame.Caller)
    {
        var name = frame.CodeAddress.FullMethodName;
        path.Add(string.IsNullOrEmpty(name) ? "?" + frame.CodeAddress.ModuleName : name);
    }
    var key = tick.TypeName + "  <=  " + string.Join("  <  ", path);
    byStack[key] = byStack.GetValueOrDefault(key) + bytes;
}
if (total == 0)
{
    Console.Error.WriteLine($"{args[0]}: no AllocationTick events (collect with --profile gc-verbose)");
    return 1;
}
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sampled {total / 1e6:0.0} MB"));
foreach (var (type, bytes) in byType.OrderByDescending(pair => pair.Value).Take(30))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bytes / total,7:P1} {type}"));
}
Console.WriteLine("--- by stack");
foreach (var (stack, bytes) in byStack.OrderByDescending(pair => pair.Value).Take(40))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{bytes / total,7:P1} {stack}"));
}
return 0;
