using Parley.Node;

namespace Parley.Simulation.NodeMode;

/// <summary>
/// The membership invariants, checked from every member's applied membership (reported after each Ready in which it
/// applied a membership change or restored a snapshot, and at each completed request, where the result carries the
/// membership at the index the verdict applied):
/// the same applied index means the same membership on every member (voters, learners, peer URLs);
/// an id is in the membership over one contiguous stretch of the log (a removed id never comes back);
/// a request's verdict matches the membership it was applied against (an addition is there with its peer URLs, a
/// removal is gone, a refusal names a reason that state bears out where the reason is a fact of the membership);
/// after every change the voters that can still run are a majority of the voters (the node refuses changes that would
/// leave too few started or connected voters; members that will never run again are the simulator's to declare).
/// </summary>
public sealed class MembershipChecker
{
    private readonly Dictionary<ulong, (MembershipView View, ulong Member)> _byIndex = [];
    private readonly SortedSet<ulong> _indexes = [];
    private readonly Dictionary<ulong, (ulong First, ulong Last)> _presence = [];

    public MembershipChecker(IReadOnlyList<ulong> initialVoters)
    {
        Newest = MembershipView.Initial(initialVoters);
    }

    /// <summary>The membership at the highest index any member applied so far.</summary>
    public MembershipView Newest { get; private set; }

    internal static SimulationViolation Violation(string message) => new(message) { Kind = "membership" };

    /// <summary>Was in the membership once and is not in the newest one: removed, never to come back.</summary>
    public bool IsGone(ulong id) => _presence.ContainsKey(id) && !Newest.Contains(id);

    /// <summary>
    /// Member <paramref name="member"/> applied <paramref name="view"/>. Returns true when it is newer than anything seen,
    /// so the caller can check what the change left (see <see cref="CheckRunnableMajority"/>).
    /// </summary>
    public bool OnApplied(ulong member, MembershipView view)
    {
        // Already recorded is fine (a completed request there, or another member): it may still be the newest.
        Record(member, view);
        if (view.Index <= Newest.Index)
        {
            return false;
        }
        Newest = view;
        return true;
    }

    /// <summary>Records what <paramref name="member"/> had at <paramref name="view"/>'s index: the same as anyone else
    /// had there, and no id back after it left. False when that index was already recorded.</summary>
    private bool Record(ulong member, MembershipView view)
    {
        if (_byIndex.TryGetValue(view.Index, out var known))
        {
            if (known.View.Fingerprint != view.Fingerprint)
            {
                throw Violation(
                    $"membership divergence: at applied index {view.Index} member {member} has {view.Fingerprint}, member {known.Member} had {known.View.Fingerprint}");
            }
            return false;
        }
        _byIndex[view.Index] = (view, member);
        _indexes.Add(view.Index);
        CheckPresence(view);
        return true;
    }

    /// <summary>After a change: the voters that can still run must be a majority, or no quorum can ever form again.</summary>
    public void CheckRunnableMajority(MembershipView view, Func<ulong, bool> isDead)
    {
        var dead = view.Voters.Where(isDead).ToArray();
        if (view.Voters.Length - dead.Length < view.Voters.Length / 2 + 1)
        {
            throw Violation(
                $"membership: after index {view.Index} the voters are [{string.Join(",", view.Voters)}] and [{string.Join(",", dead)}] of them " +
                "will never run again: the node accepted a change that leaves no majority able to run");
        }
    }

    /// <summary>A membership request completed at its origin, which had applied up to <paramref name="appliedIndex"/>.</summary>
    public void OnRequestCompleted(ulong origin, MemberChange change, MemberChangeResult result, ulong appliedIndex)
    {
        if (result.Error != NodeError.None)
        {
            return; // no verdict: it may still apply, or not
        }
        var what = $"{change.Kind} {change.MemberId} completed at member {origin} (applied {appliedIndex})";
        var members = result.Members;
        // The result carries the origin's membership right after the verdict applied: the same as every other member's there.
        Record(origin, MembershipView.FromMembers(appliedIndex, members));
        var entry = members.FirstOrDefault(m => m.Id == change.MemberId);
        var problem = result.MemberError == MemberError.None ? CheckApplied(change, entry) : CheckRefusal(change, result.MemberError, entry, members);
        if (problem is not null)
        {
            var verdict = result.MemberError == MemberError.None ? "ok" : MemberErrors.Message(result.MemberError);
            throw Violation(
                $"membership: {what} as \"{verdict}\" with members [{MembershipView.DescribeMembers(members)}]: {problem}");
        }
    }

    /// <summary>At the end: every live member's membership is the one applied at its index.</summary>
    public void CheckFinal(ulong member, NodeStatus status)
    {
        var view = MembershipView.Of(status);
        var expected = ViewAt(status.AppliedIndex);
        if (expected is not null && expected.Fingerprint != view.Fingerprint)
        {
            throw Violation(
                $"membership divergence: member {member} ends at applied index {status.AppliedIndex} with {view.Fingerprint}, but {expected} was applied there");
        }
    }

    private static string? CheckApplied(MemberChange change, ClusterMember? entry) => change.Kind switch
    {
        MemberChangeKind.AddLearner when entry is null || !entry.IsLearner || !entry.PeerUrls.SequenceEqual(change.PeerUrls) =>
            "the added member is not a learner with the requested peer URLs",
        MemberChangeKind.AddVoter when entry is null || entry.IsLearner || !entry.PeerUrls.SequenceEqual(change.PeerUrls) =>
            "the added member is not a voter with the requested peer URLs",
        MemberChangeKind.Promote when entry is null || entry.IsLearner => "the promoted member is not a voter",
        MemberChangeKind.Remove when entry is not null => "the removed member is still there",
        MemberChangeKind.Update when entry is null || !entry.PeerUrls.SequenceEqual(change.PeerUrls) => "the member does not have the new peer URLs",
        _ => null,
    };

    /// <summary>Reasons that are facts of the membership are checked against it; the leader's view of its peers
    /// (not enough started, unhealthy, learner not in sync) is not the simulator's to second-guess.</summary>
    private string? CheckRefusal(MemberChange change, MemberError error, ClusterMember? entry, IReadOnlyList<ClusterMember> members)
    {
        switch (error)
        {
            case MemberError.NotFound:
                return entry is null ? null : "the member is there";
            case MemberError.NotLearner:
                return change.Kind == MemberChangeKind.Promote && entry is { IsLearner: false } ? null : "only a voter's promotion is refused so";
            case MemberError.LearnerNotReady:
                return change.Kind == MemberChangeKind.Promote && entry is { IsLearner: true } ? null : "only a learner's promotion is refused so";
            case MemberError.TooManyLearners:
                return change.Kind == MemberChangeKind.AddLearner && members.Any(m => m.IsLearner) ? null : "there is no learner";
            case MemberError.IdExists:
                return change.Kind is MemberChangeKind.AddLearner or MemberChangeKind.AddVoter && (entry is not null || _presence.ContainsKey(change.MemberId))
                    ? null : "the id was never a member";
            case MemberError.PeerUrlExists when change.Kind == MemberChangeKind.Update:
                // Checked when the update applies, against exactly this membership.
                return members.Any(m => m.Id != change.MemberId && m.PeerUrls.Intersect(change.PeerUrls, StringComparer.Ordinal).Any())
                    ? null : "no other member has these peer URLs";
            case MemberError.PeerUrlExists:
                // An addition is checked by the leader before an update ahead of it in the log may have applied.
                return change.Kind is MemberChangeKind.AddLearner or MemberChangeKind.AddVoter ? null : "only additions and updates are refused so";
            case MemberError.NotEnoughStarted:
            case MemberError.Unhealthy:
                return change.Kind is MemberChangeKind.AddVoter or MemberChangeKind.Promote or MemberChangeKind.Remove ? null
                    : "only voter additions, promotions and removals are refused so";
            default:
                return "not a verdict a membership request can get";
        }
    }

    /// <summary>The membership as of <paramref name="index"/>: the latest applied at or below it.</summary>
    private MembershipView? ViewAt(ulong index)
    {
        if (_indexes.Count == 0 || _indexes.Min > index)
        {
            return null;
        }
        var at = _indexes.GetViewBetween(_indexes.Min, index).Max;
        return _byIndex[at].View;
    }

    /// <summary>Each id is in the membership over one stretch of indexes: in at a and c means in at every b between.</summary>
    private void CheckPresence(MembershipView view)
    {
        foreach (var id in view.Voters.Concat(view.Learners))
        {
            var (first, last) = _presence.TryGetValue(id, out var known) ? known : (view.Index, view.Index);
            var widened = (Math.Min(first, view.Index), Math.Max(last, view.Index));
            _presence[id] = widened;
            if (widened.Item2 - widened.Item1 > 1 && (widened != known))
            {
                foreach (var between in _indexes.GetViewBetween(widened.Item1 + 1, widened.Item2 - 1))
                {
                    if (!_byIndex[between].View.Contains(id))
                    {
                        throw CameBack(id, widened.Item1, between, widened.Item2);
                    }
                }
            }
        }
        foreach (var (id, (first, last)) in _presence)
        {
            if (first < view.Index && view.Index < last && !view.Contains(id))
            {
                throw CameBack(id, first, view.Index, last);
            }
        }
    }

    private SimulationViolation CameBack(ulong id, ulong first, ulong absent, ulong last) => Violation(
        $"membership: member {id} is in the membership applied at index {first} and at {last} but not at {absent} " +
        $"(a removed id came back, or the applied membership diverged): {_byIndex[first].View} / {_byIndex[absent].View} / {_byIndex[last].View}");
}
