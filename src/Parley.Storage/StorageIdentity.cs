namespace Parley.Storage;

/// <summary>Whose data a data directory holds. A directory written for one identity is refused under another.</summary>
public readonly record struct StorageIdentity(ulong ClusterId, ulong MemberId)
{
    public override string ToString() => $"cluster {ClusterId:x16} member {MemberId:x16}";
}
