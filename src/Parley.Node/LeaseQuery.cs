namespace Parley.Node;

/// <summary>
/// A lease question as it travels from the member a client called to the leader. <see cref="RequestId"/> is the
/// asking member's own number for it (the answer carries it back).
/// </summary>
public sealed record LeaseQuery(ulong RequestId, LeaseQueryKind Kind, long LeaseId, bool WithKeys);
