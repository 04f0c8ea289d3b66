namespace Parley.Server.Peer;

/// <summary>The kinds of frame on a peer connection.</summary>
internal enum PeerFrameType : byte
{
    /// <summary>First frame on a connection: who is calling (member id, name, client URLs).</summary>
    Hello = 1,
    RaftMessage = 2,
    /// <summary>Encoded proposals a follower hands to the leader.</summary>
    Forward = 3,
    /// <summary>A member asks the leader about a lease (keepalive, time to live).</summary>
    LeaseQuery = 4,
    /// <summary>The leader's answer to a lease question.</summary>
    LeaseAnswer = 5,
    /// <summary>First and only frame of a short connection from a member that joins: who is in the cluster?</summary>
    JoinQuery = 6,
    /// <summary>The answer on that connection: cluster id and membership.</summary>
    JoinAnswer = 7,
    /// <summary>A piece of a snapshot's data; the Raft message that carries the snapshot follows the last one.</summary>
    SnapshotChunk = 8,
    /// <summary>A round-trip probe: the sender's monotonic timestamp, echoed back as <see cref="Pong"/>.</summary>
    Ping = 9,
    /// <summary>The answer to a <see cref="Ping"/> on the same link connection (its only frame in that direction): the payload unchanged.</summary>
    Pong = 10,
    /// <summary>The leader's answer to a <see cref="Forward"/>: where each proposal was appended, or that none was.</summary>
    ForwardAnswer = 11,
    /// <summary>
    /// Sent back on a connection whose hello named a member the cluster removed (the payload: its id, 8 bytes), before
    /// closing it; the removed member stops, as etcd's does.
    /// </summary>
    Removed = 12,
    /// <summary>
    /// Sent back on a connection whose hello named another cluster (the payload: this member's cluster id, 8 bytes),
    /// before closing it: two clusters whose peer URLs overlap (a reused address, a stale member) must not mix logs.
    /// </summary>
    ClusterMismatch = 13,
}
