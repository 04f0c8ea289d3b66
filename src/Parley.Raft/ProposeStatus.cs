namespace Parley.Raft;

public enum ProposeStatus : byte
{
    Accepted,
    /// <summary>This member is not the leader; <see cref="ProposeResult.LeaderHint"/> names the one it knows.</summary>
    NotLeader,
    /// <summary>Leadership is being handed over; retry at the new leader.</summary>
    LeadershipTransferInProgress,
    /// <summary>Too many bytes are proposed but not yet committed (the bound is <see cref="RaftOptions.UncommittedBytesMax"/>).</summary>
    TooManyUncommittedBytes,
    /// <summary>A membership change is still being applied; only one may be pending at a time.</summary>
    ConfigChangePending,
    /// <summary>The change itself is invalid (e.g. removing the last voter).</summary>
    InvalidConfigChange,
}
