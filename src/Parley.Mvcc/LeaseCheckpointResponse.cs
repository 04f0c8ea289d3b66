namespace Parley.Mvcc;

/// <summary>The (internal) answer to a <see cref="LeaseCheckpointRequest"/>.</summary>
public sealed class LeaseCheckpointResponse
{
    public ResponseHeader Header { get; init; }
}
