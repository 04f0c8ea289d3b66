namespace Parley.Mvcc;

/// <summary>etcdserverpb.LeaseCheckpointRequest: remaining TTLs the leader replicates so a new leader resumes them.</summary>
public sealed class LeaseCheckpointRequest
{
    public IReadOnlyList<LeaseCheckpoint> Checkpoints { get; init; } = [];
}
