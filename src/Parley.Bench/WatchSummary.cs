namespace Parley.Bench;

/// <summary>What the watchers of a watch run received.</summary>
public sealed record WatchSummary(
    int Watchers,
    long EventsExpected,
    long EventsReceived,
    double EventsPerSecond,
    LatencySummary DeliveryLatency,
    long WatcherErrors);
