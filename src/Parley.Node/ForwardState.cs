namespace Parley.Node;

/// <summary>Where a write waiting at the member that took it stands with respect to the leader it was forwarded to.</summary>
internal enum ForwardState : byte
{
    /// <summary>Not forwarded, or to be proposed again (known to be in no log that can commit it).</summary>
    NotForwarded,

    /// <summary>Forwarded; no answer yet, so whether the leader appended it is unknown.</summary>
    AwaitingAnswer,

    /// <summary>The leader appended it at a known index and term; it commits there or never.</summary>
    Appended,

    /// <summary>The leader refused it (not leader any more): forwarded again once another member leads.</summary>
    Refused,
}
