namespace Parley.Server.Peer;

/// <summary>The kinds of frame on a peer connection.</summary>
internal enum PeerFrameType : byte
{
    /// <summary>First frame on a connection: who is calling (member id, name, client URLs).</summary>
    Hello = 1,
    RaftMessage = 2,
    /// <summary>Encoded proposals a follower hands to the leader.</summary>
    Forward = 3,
}
