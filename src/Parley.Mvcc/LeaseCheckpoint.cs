namespace Parley.Mvcc;

/// <summary>One lease's remaining TTL as the leader measured it (etcdserverpb.LeaseCheckpoint).</summary>
public readonly record struct LeaseCheckpoint(long ID, long RemainingTtlSeconds);
