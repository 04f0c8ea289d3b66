using System.Collections.Concurrent;

namespace Parley.Server.Peer;

/// <summary>Counters behind etcd_network_peer_* metrics, by peer id.</summary>
internal sealed class PeerMetrics
{
    public ConcurrentDictionary<ulong, long> SentBytes { get; } = new();

    public ConcurrentDictionary<ulong, long> ReceivedBytes { get; } = new();

    public ConcurrentDictionary<ulong, long> SentFailures { get; } = new();

    /// <summary>Incoming connections from a peer that ended in an error (a bad frame or a broken socket).</summary>
    public ConcurrentDictionary<ulong, long> ReceiveFailures { get; } = new();

    public ConcurrentDictionary<ulong, bool> Active { get; } = new();

    /// <summary>Ping/pong round trips on the link to each peer (etcd_network_peer_round_trip_time_seconds{To}).</summary>
    public ConcurrentDictionary<ulong, MetricHistogram> RoundTrips { get; } = new();

    public void Sent(ulong peer, long bytes) => SentBytes.AddOrUpdate(peer, bytes, (_, total) => total + bytes);

    public void Received(ulong peer, long bytes) => ReceivedBytes.AddOrUpdate(peer, bytes, (_, total) => total + bytes);

    public void SendFailed(ulong peer) => SentFailures.AddOrUpdate(peer, 1, (_, total) => total + 1);

    public void ReceiveFailed(ulong peer) => ReceiveFailures.AddOrUpdate(peer, 1, (_, total) => total + 1);

    public void Connected(ulong peer, bool connected) => Active[peer] = connected;

    public void RoundTrip(ulong peer, TimeSpan duration) =>
        RoundTrips.GetOrAdd(peer, _ => new MetricHistogram(MetricHistogram.RoundTripBounds)).Observe(duration);
}
