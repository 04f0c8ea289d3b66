namespace Parley.Mvcc;

public sealed partial class MvccStore
{
    private ClusterMemberRecord[] _members = [];
    private ulong[] _removedMembers = [];

    /// <summary>
    /// The peer URLs of every member, as membership changes applied them (etcd keeps the same in its backend's members
    /// bucket). Not part of the keyspace: no revision, not hashed. Id order.
    /// </summary>
    public IReadOnlyList<ClusterMemberRecord> Members => _members;

    /// <summary>Ids of members removed from the cluster; they may never come back under the same id (id order).</summary>
    public IReadOnlyList<ulong> RemovedMembers => _removedMembers;

    /// <summary>Adds a member or replaces its peer URLs (applied with a membership change).</summary>
    public void SetMember(ClusterMemberRecord member)
    {
        var members = _members.Where(existing => existing.Id != member.Id).Append(member).OrderBy(m => m.Id).ToArray();
        _members = members;
    }

    /// <summary>Removes a member and remembers its id as removed (applied with a membership change).</summary>
    public void RemoveMember(ulong id)
    {
        _members = _members.Where(existing => existing.Id != id).ToArray();
        if (Array.BinarySearch(_removedMembers, id) < 0)
        {
            _removedMembers = [.. _removedMembers.Append(id).Order()];
        }
    }

    /// <summary>
    /// Replaces the membership with a new cluster's, forgetting removed ids: a restore from a backup, where the old
    /// cluster's members mean nothing (etcd's restore rewrites its members buckets the same way).
    /// </summary>
    public void ResetMembers(IEnumerable<ClusterMemberRecord> members)
    {
        var ordered = members.OrderBy(member => member.Id).ToArray();
        Invariant.Check(ordered.All(member => member.Id != 0), "a member id of zero");
        Invariant.Check(ordered.Select(member => member.Id).Distinct().Count() == ordered.Length, "a member given twice");
        _members = ordered;
        _removedMembers = [];
    }

    private void WriteMembers(SnapshotWriter writer)
    {
        writer.WriteUnsigned((ulong)_members.Length);
        foreach (ClusterMemberRecord member in _members)
        {
            writer.WriteUnsigned(member.Id);
            writer.WriteUnsigned((ulong)member.PeerUrls.Count);
            foreach (string url in member.PeerUrls)
            {
                writer.WriteString(url);
            }
        }
        writer.WriteUnsigned((ulong)_removedMembers.Length);
        foreach (ulong id in _removedMembers)
        {
            writer.WriteUnsigned(id);
        }
    }

    private void ReadMembers(ref SnapshotReader reader)
    {
        var members = new ClusterMemberRecord[reader.ReadCount()];
        for (int index = 0; index < members.Length; index++)
        {
            ulong id = reader.ReadUnsigned();
            var urls = new string[reader.ReadCount()];
            for (int url = 0; url < urls.Length; url++)
            {
                urls[url] = reader.ReadString();
            }
            SnapshotReader.Require(id != 0 && (index == 0 || members[index - 1].Id < id), "members out of order, repeated or zero");
            members[index] = new ClusterMemberRecord(id, urls);
        }
        var removed = new ulong[reader.ReadCount()];
        for (int index = 0; index < removed.Length; index++)
        {
            removed[index] = reader.ReadUnsigned();
            SnapshotReader.Require(index == 0 || removed[index - 1] < removed[index], "removed members out of order or repeated");
        }
        _members = members;
        _removedMembers = removed;
    }
}
