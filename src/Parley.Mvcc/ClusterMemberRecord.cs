namespace Parley.Mvcc;

/// <summary>A member as the replicated state records it: its id and the peer URLs others reach it at.</summary>
public sealed record ClusterMemberRecord(ulong Id, IReadOnlyList<string> PeerUrls)
{
    public bool Equals(ClusterMemberRecord? other) =>
        other is not null && Id == other.Id && PeerUrls.SequenceEqual(other.PeerUrls, StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Id, PeerUrls.Count);
}
