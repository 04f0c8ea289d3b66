namespace Parley.Bench;

/// <summary>Live counters of a run, written by the clients and read by a progress display.</summary>
public sealed class BenchProgress
{
    private long _completed;
    private long _errors;
    private long _phaseTotal;
    private string _phase = "connecting";

    public string Phase => Volatile.Read(ref _phase);

    /// <summary>Operations (or preload keys) the phase will do, 0 if bounded by time only.</summary>
    public long PhaseTotal => Interlocked.Read(ref _phaseTotal);

    public long Completed => Interlocked.Read(ref _completed);

    public long Errors => Interlocked.Read(ref _errors);

    public TimeSpan PhaseDuration { get; private set; }

    public long PhaseStartTimestamp { get; private set; }

    public void StartPhase(string phase, long total, TimeSpan duration, long startTimestamp)
    {
        Interlocked.Exchange(ref _completed, 0);
        Interlocked.Exchange(ref _errors, 0);
        Interlocked.Exchange(ref _phaseTotal, total);
        PhaseDuration = duration;
        PhaseStartTimestamp = startTimestamp;
        Volatile.Write(ref _phase, phase);
    }

    public void AddCompleted(long count) => Interlocked.Add(ref _completed, count);

    public void AddError() => Interlocked.Increment(ref _errors);
}
