namespace Parley.Bench;

/// <summary>
/// Intended send times for an open-loop run: the whole run sends at <c>rate</c> operations per second, spread
/// evenly over the clients (slot <c>k·clients + c</c> belongs to client <c>c</c>, at <c>slot / rate</c> seconds).
/// A client that falls behind sends at once, and its latency is measured from the intended time, so a slow
/// server is charged for the requests it delayed (no coordinated omission).
/// </summary>
public sealed class OpenLoopSchedule
{
    private readonly double _ticksPerSlot;

    public OpenLoopSchedule(double ratePerSecond, int clients, long ticksPerSecond)
    {
        if (!(ratePerSecond > 0) || double.IsInfinity(ratePerSecond))
        {
            throw new ArgumentOutOfRangeException(nameof(ratePerSecond), "the target rate must be a positive number");
        }
        if (clients < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(clients));
        }
        if (ticksPerSecond < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ticksPerSecond));
        }
        RatePerSecond = ratePerSecond;
        Clients = clients;
        TicksPerSecond = ticksPerSecond;
        _ticksPerSlot = ticksPerSecond / ratePerSecond;
    }

    public double RatePerSecond { get; }

    public int Clients { get; }

    public long TicksPerSecond { get; }

    /// <summary>Ticks after the start at which client <paramref name="client"/> should send its operation number <paramref name="sequence"/>.</summary>
    public long IntendedOffsetTicks(int client, long sequence)
    {
        if (client < 0 || client >= Clients)
        {
            throw new ArgumentOutOfRangeException(nameof(client));
        }
        if (sequence < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sequence));
        }
        return (long)(((double)sequence * Clients + client) * _ticksPerSlot);
    }

    /// <summary>Operations client <paramref name="client"/> is scheduled to send in the first <paramref name="durationTicks"/> ticks.</summary>
    public long ScheduledOperations(int client, long durationTicks)
    {
        if (durationTicks <= 0)
        {
            return 0;
        }
        // slots s = k·N + c with s·ticksPerSlot < duration: k < (duration/ticksPerSlot − c) / N
        var slots = durationTicks / _ticksPerSlot;
        var count = (long)Math.Ceiling((slots - client) / Clients);
        count = Math.Max(0, count);
        // floating point at the boundary: step until the definition holds exactly
        while (count > 0 && IntendedOffsetTicks(client, count - 1) >= durationTicks)
        {
            count--;
        }
        while (IntendedOffsetTicks(client, count) < durationTicks)
        {
            count++;
        }
        return count;
    }
}
