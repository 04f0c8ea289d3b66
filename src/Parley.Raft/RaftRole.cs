namespace Parley.Raft;

public enum RaftRole : byte
{
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}
