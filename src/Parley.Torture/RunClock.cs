using System.Diagnostics;

namespace Parley.Torture;

/// <summary>Monotonic nanoseconds since a run started (Stopwatch ticks; only order matters to the checker).</summary>
public sealed class RunClock
{
    private readonly long _start = Stopwatch.GetTimestamp();

    public long NowNs => (long)(Stopwatch.GetElapsedTime(_start).Ticks * 100L);

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_start);
}
