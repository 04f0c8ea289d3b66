using System.Globalization;
using System.Text;
using Parley.Node;

namespace Parley.Simulation.NodeMode;

/// <summary>
/// A member's applied membership right after it applied the entry at <see cref="Index"/> (or restored a snapshot
/// there): Raft's voters and learners and the replicated member table. <see cref="Fingerprint"/> is its canonical text,
/// equal on every member at the same index.
/// </summary>
public sealed class MembershipView
{
    private MembershipView(ulong index, IReadOnlyList<ulong> voters, IReadOnlyList<ulong> learners, IReadOnlyList<ClusterMember> members)
    {
        Index = index;
        Voters = [.. voters.Order()];
        Learners = [.. learners.Order()];
        Members = members;
        Fingerprint = Describe(Voters, Learners, members);
    }

    public ulong Index { get; }

    public ulong[] Voters { get; }

    public ulong[] Learners { get; }

    public IReadOnlyList<ClusterMember> Members { get; }

    public string Fingerprint { get; }

    public static MembershipView Of(NodeStatus status) => new(status.AppliedIndex, status.Voters, status.Learners, status.Members);

    /// <summary>The membership a request's result carries, as its origin had it at <paramref name="index"/>.</summary>
    public static MembershipView FromMembers(ulong index, IReadOnlyList<ClusterMember> members) => new(
        index, [.. members.Where(m => !m.IsLearner).Select(m => m.Id)], [.. members.Where(m => m.IsLearner).Select(m => m.Id)], members);

    /// <summary>The membership a new cluster starts from, before its bootstrap entries apply.</summary>
    public static MembershipView Initial(IReadOnlyList<ulong> voters) => new(0, voters, [], []);

    public bool Contains(ulong id) => Voters.Contains(id) || Learners.Contains(id);

    public bool IsVoter(ulong id) => Voters.Contains(id);

    /// <summary>The member table part alone (what a membership request's result carries).</summary>
    public static string DescribeMembers(IReadOnlyList<ClusterMember> members)
    {
        var builder = new StringBuilder();
        foreach (var member in members)
        {
            builder.Append(member.Id.ToString(CultureInfo.InvariantCulture)).Append(member.IsLearner ? "(learner)" : "").Append('=')
                .AppendJoin(',', member.PeerUrls).Append(' ');
        }
        return builder.ToString().TrimEnd();
    }

    public override string ToString() => $"{Fingerprint} at {Index}";

    private static string Describe(ulong[] voters, ulong[] learners, IReadOnlyList<ClusterMember> members) =>
        $"voters [{string.Join(",", voters)}] learners [{string.Join(",", learners)}] members [{DescribeMembers(members)}]";
}
