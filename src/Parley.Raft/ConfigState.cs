namespace Parley.Raft;

/// <summary>
/// The membership at some log position: voters decide elections and commits; learners only receive the log.
/// Changes are applied one member at a time (see docs/adr/0001-single-member-changes.md).
/// </summary>
public sealed record ConfigState(IReadOnlyList<ulong> Voters, IReadOnlyList<ulong> Learners)
{
    public static readonly ConfigState Empty = new([], []);

    public bool IsVoter(ulong id) => Contains(Voters, id);

    public bool IsLearner(ulong id) => Contains(Learners, id);

    public bool IsMember(ulong id) => IsVoter(id) || IsLearner(id);

    public ConfigState Apply(ConfigChange change)
    {
        var voters = Voters.Where(v => v != change.NodeId).ToList();
        var learners = Learners.Where(l => l != change.NodeId).ToList();
        switch (change.Type)
        {
            case ConfigChangeType.AddVoter:
                voters.Add(change.NodeId);
                break;
            case ConfigChangeType.AddLearner:
                learners.Add(change.NodeId);
                break;
            case ConfigChangeType.RemoveNode:
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(change), change.Type, "unknown config change type");
        }
        voters.Sort();
        learners.Sort();
        return new ConfigState(voters, learners);
    }

    public bool Equals(ConfigState? other) =>
        other is not null && Voters.SequenceEqual(other.Voters) && Learners.SequenceEqual(other.Learners);

    public override int GetHashCode() => HashCode.Combine(Voters.Count, Learners.Count);

    public override string ToString() =>
        $"voters=[{string.Join(",", Voters)}] learners=[{string.Join(",", Learners)}]";

    private static bool Contains(IReadOnlyList<ulong> ids, ulong id)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] == id)
            {
                return true;
            }
        }
        return false;
    }
}
