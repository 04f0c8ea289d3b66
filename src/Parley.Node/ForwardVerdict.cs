namespace Parley.Node;

/// <summary>What a member did with proposals forwarded to it.</summary>
public enum ForwardVerdict : byte
{
    /// <summary>Appended to its log as leader, each at the index given in the answer.</summary>
    Appended = 1,

    /// <summary>Not appended: it does not lead (or is handing leadership over). The origin tries the next leader.</summary>
    NotLeader = 2,

    /// <summary>Not appended: too many bytes proposed and not committed yet ("too many requests").</summary>
    TooManyRequests = 3,
}
