namespace Parley.Server.Peer;

/// <summary>Who opened a peer connection: its cluster, id, name, and the URLs it serves clients and peers on.</summary>
internal sealed record PeerHello(ulong ClusterId, ulong MemberId, string Name, string[] ClientUrls, string[] PeerUrls);
