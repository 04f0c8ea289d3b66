namespace Parley.Server.Peer;

/// <summary>The queue item that asks a <see cref="PeerLink"/> to send a ping, stamped when it is written.</summary>
internal sealed class PeerProbe
{
    public static PeerProbe Instance { get; } = new();

    private PeerProbe()
    {
    }
}
