using System.Globalization;

namespace Parley.Bench.Comparison;

/// <summary>
/// Decides when a server has warmed up under a load: its JIT (if it reports one) has stopped compiling in bulk, and
/// its CPU per operation has stopped falling for <see cref="LevelWindowsMin"/> windows in a row. A .NET server's JIT
/// compiles its hot paths again, optimised, over its first tens of seconds under load (tiered compilation with dynamic
/// PGO; longer on a slow machine: three members compiled about 30,000 methods in their first 15 s of a put load, then
/// 100-400 per 5 s), spending meanwhile up to twice the CPU per operation, and in steps rather than smoothly, so the
/// CPU alone can look level between two steps. A Go server is compiled ahead of time and reports no JIT. Measuring
/// both once steady compares what a long-running server costs.
/// </summary>
public sealed class SteadyState
{
    /// <summary>A window is level if its cost fell by less than this fraction from the window before's…</summary>
    public const double FallingFractionMax = 0.10;

    /// <summary>…and the JIT compiled fewer methods in it than this fraction of all it had compiled before.</summary>
    public const double JitMethodsFractionMax = 0.01;

    /// <summary>Level windows in a row that make a server steady.</summary>
    public const int LevelWindowsMin = 2;

    private double? _previous;
    private int _levelWindows;

    /// <summary>What the windows so far measured, for the log.</summary>
    public List<string> Windows { get; } = [];

    /// <summary>
    /// Adds one window: its cost (server CPU seconds per operation) and the methods the servers' JIT compiled in it
    /// and before it (null: the servers report no JIT). True once steady.
    /// </summary>
    public bool Add(double costPerOperation, (double InWindow, double Before)? jitMethods)
    {
        Windows.Add(string.Create(CultureInfo.InvariantCulture,
            $"{costPerOperation * 1e6:0} µs/op{(jitMethods is { } jit ? $" JIT +{jit.InWindow:0}" : "")}"));
        if (!double.IsFinite(costPerOperation) || costPerOperation <= 0)
        {
            // no completed operations or no CPU reading: nothing learned, not steady
            _levelWindows = 0;
            return false;
        }
        var level = _previous is { } previous && costPerOperation >= previous * (1 - FallingFractionMax)
            && (jitMethods is not { } methods || methods.InWindow < methods.Before * JitMethodsFractionMax);
        _previous = costPerOperation;
        _levelWindows = level ? _levelWindows + 1 : 0;
        return _levelWindows >= LevelWindowsMin;
    }

    /// <summary>
    /// A warm-up plan over the servers' CPU seconds so far (<paramref name="cpuSeconds"/>) and the methods their JIT
    /// has compiled so far (<paramref name="jitMethodsAsync"/>; null if they report none), read at the start and after each window.
    /// </summary>
    public async Task<WarmupPlan> PlanAsync(
        Func<double> cpuSeconds, Func<CancellationToken, Task<double?>> jitMethodsAsync, TimeSpan window, TimeSpan maximum, CancellationToken cancellationToken)
    {
        var windowJit = await jitMethodsAsync(cancellationToken).ConfigureAwait(false);
        var windowCpu = cpuSeconds();
        return new WarmupPlan(window, maximum, async (result, token) =>
        {
            var cpu = cpuSeconds();
            var jit = await jitMethodsAsync(token).ConfigureAwait(false);
            var cost = result.Operations > 0 ? (cpu - windowCpu) / result.Operations : double.NaN;
            (double, double)? methods = jit is { } now && windowJit is { } before ? (now - before, before) : null;
            windowCpu = cpu;
            windowJit = jit;
            return Add(cost, methods);
        });
    }
}
