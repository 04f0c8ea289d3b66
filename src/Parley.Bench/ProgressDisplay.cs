using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Parley.Bench;

/// <summary>
/// Live progress of a run while a task works: a Spectre.Console live line on a terminal, otherwise one line
/// every few seconds on stderr (or nothing when quiet).
/// </summary>
public static class ProgressDisplay
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);

    public static async Task<T> ShowAsync<T>(BenchProgress progress, string title, bool interactive, bool quiet, Func<Task<T>> work)
    {
        if (quiet)
        {
            return await work().ConfigureAwait(false);
        }
        if (!interactive)
        {
            return await PlainAsync(progress, title, work).ConfigureAwait(false);
        }
        T result = default!;
        await AnsiConsole.Live(new Markup(Markup.Escape(title))).AutoClear(true).StartAsync(async context =>
        {
            var task = work();
            var meter = new RateMeter();
            while (!task.IsCompleted)
            {
                await Task.WhenAny(task, Task.Delay(RefreshInterval)).ConfigureAwait(false);
                context.UpdateTarget(new Markup(Markup.Escape($"{title}  {meter.Describe(progress)}")));
            }
            result = await task.ConfigureAwait(false);
        }).ConfigureAwait(false);
        return result;
    }

    private static async Task<T> PlainAsync<T>(BenchProgress progress, string title, Func<Task<T>> work)
    {
        var task = work();
        var meter = new RateMeter();
        while (!task.IsCompleted)
        {
            await Task.WhenAny(task, Task.Delay(PlainInterval)).ConfigureAwait(false);
            if (!task.IsCompleted)
            {
                await Console.Error.WriteLineAsync($"{title}  {meter.Describe(progress)}").ConfigureAwait(false);
            }
        }
        return await task.ConfigureAwait(false);
    }

    /// <summary>Turns successive counter readings into "phase: done/total, N ops/s now, elapsed".</summary>
    private sealed class RateMeter
    {
        private long _lastCompleted;
        private long _lastTimestamp = Stopwatch.GetTimestamp();
        private string _lastPhase = "";

        public string Describe(BenchProgress progress)
        {
            var now = Stopwatch.GetTimestamp();
            var completed = progress.Completed;
            if (progress.Phase != _lastPhase)
            {
                _lastPhase = progress.Phase;
                _lastCompleted = 0;
            }
            var seconds = (double)(now - _lastTimestamp) / Stopwatch.Frequency;
            var rate = seconds > 0 ? (completed - _lastCompleted) / seconds : 0;
            _lastCompleted = completed;
            _lastTimestamp = now;
            var elapsed = (double)(now - progress.PhaseStartTimestamp) / Stopwatch.Frequency;
            var total = progress.PhaseTotal > 0 ? "/" + progress.PhaseTotal.ToString("#,0", CultureInfo.InvariantCulture) : "";
            var limit = progress.PhaseDuration > TimeSpan.Zero ? "/" + progress.PhaseDuration.TotalSeconds.ToString("0", CultureInfo.InvariantCulture) + "s" : "";
            return string.Create(CultureInfo.InvariantCulture,
                $"{progress.Phase}: {completed:#,0}{total} done, {rate:#,0}/s now, {progress.Errors:#,0} errors, {elapsed:0.0}s{limit}");
        }
    }
}
