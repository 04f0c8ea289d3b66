namespace Parley.Raft;

/// <summary>
/// A read request confirmed by a leadership round: once the member has applied up to <see cref="Index"/>, the
/// read identified by <see cref="RequestId"/> may be served from local state and is linearizable.
/// </summary>
public readonly record struct ReadState(ulong Index, ulong RequestId);
