namespace Parley.Simulation;

/// <summary>Virtual time: actions run in (time, insertion) order, so a seed always replays the same way.</summary>
public sealed class EventQueue
{
    private readonly PriorityQueue<Action, (long TimeMicros, long Sequence)> _queue = new();
    private long _sequence;

    public long NowMicros { get; private set; }

    public int Count => _queue.Count;

    public void At(long timeMicros, Action action)
    {
        _queue.Enqueue(action, (Math.Max(timeMicros, NowMicros), _sequence++));
    }

    public void After(long delayMicros, Action action) => At(NowMicros + delayMicros, action);

    /// <summary>Runs the next action if it is due by <paramref name="untilMicros"/>; false when none is.</summary>
    public bool RunNext(long untilMicros)
    {
        if (!_queue.TryPeek(out _, out var key) || key.TimeMicros > untilMicros)
        {
            NowMicros = Math.Max(NowMicros, untilMicros);
            return false;
        }
        var action = _queue.Dequeue();
        NowMicros = key.TimeMicros;
        action();
        return true;
    }
}
