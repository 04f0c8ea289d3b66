namespace Parley.Raft;

public enum MessageType : byte
{
    PreVote = 1,
    PreVoteResponse = 2,
    Vote = 3,
    VoteResponse = 4,
    Append = 5,
    AppendResponse = 6,
    Heartbeat = 7,
    HeartbeatResponse = 8,
    InstallSnapshot = 9,
    TimeoutNow = 10,
    /// <summary>A follower asks the leader for a read index on behalf of its clients.</summary>
    ReadIndex = 11,
    ReadIndexResponse = 12,
    /// <summary>A follower asks the leader to hand leadership to someone.</summary>
    TransferLeadership = 13,
}
