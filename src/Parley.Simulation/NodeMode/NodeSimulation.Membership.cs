using System.Globalization;
using Parley.Node;
using Parley.Storage;

namespace Parley.Simulation.NodeMode;

/// <summary>
/// The operator: membership requests (etcd's member add --learner, promote, remove, update) and leadership moves
/// (move-leader) under the faults, one request at a time, sent to a running voter as etcdctl would. A fresh member
/// joins with an empty disk under a new id; a member that will never run again (quarantined after a bit flip) is
/// replaced: removed, then a fresh one added and promoted. Refusals are normal outcomes, retried later.
/// </summary>
public sealed partial class NodeSimulation
{
    private readonly Dictionary<ulong, long> _removalsInDoubt = [];
    private long _lastQuarantineMicros = long.MinValue / 2;
    private long _operatorOperation;
    private bool _operatorBusy;
    private int _joiners;
    private int _urlGeneration;
    private int _membershipRequests;
    private int _membershipApplied;
    private int _membershipRefused;
    private int _learnersAdded;
    private int _promotions;
    private int _removals;
    private int _leaderRemovals;
    private int _replacements;
    private int _urlUpdates;
    private int _transfers;
    private int _transfersCompleted;

    private static List<string> PeerUrls(ulong id, int generation) =>
        [string.Create(CultureInfo.InvariantCulture, $"http://10.0.{generation}.{id}:2380")];

    /// <summary>Hooked on every node: the membership it applied, checked against every other member's at the same index.</summary>
    private void OnMembersChanged(SimMember member, ClusterNode node)
    {
        var view = MembershipView.Of(node.GetStatus());
        var containsSelf = view.Contains(member.Id);
        if (member.SelfInMembership && !containsSelf)
        {
            member.OwnRemovalIndex = view.Index;
        }
        if (node.IsRemoved && containsSelf)
        {
            throw MembershipChecker.Violation($"membership: member {member.Id} set IsRemoved, but its membership at index {view.Index} still holds it");
        }
        member.SelfInMembership = containsSelf;
        member.LastView = view;
        if (!Membership.OnApplied(member.Id, view))
        {
            return;
        }
        Trace.Add($"membership at {view.Index} (n{member.Id} first): {view.Fingerprint}");
        Membership.CheckRunnableMajority(view, id => FindMember(id) is { IsDead: true });
        foreach (var id in _removalsInDoubt.Keys.Where(id => !view.Contains(id)).ToList())
        {
            _removalsInDoubt.Remove(id);
        }
    }

    /// <summary>
    /// After a turn: a member that applied its own removal, and has been told by another member as leader that it
    /// committed, must have set <see cref="ClusterNode.IsRemoved"/>; then it is stopped for good.
    /// </summary>
    private void RetireIfRemoved(SimMember member, ClusterNode node)
    {
        if (!node.IsRemoved)
        {
            if (member.OwnRemovalIndex != 0 && member.CommitHeardFromLeader >= member.OwnRemovalIndex)
            {
                throw MembershipChecker.Violation(
                    $"membership: member {member.Id} applied its own removal at index {member.OwnRemovalIndex} and a leader has told it " +
                    $"that index {member.CommitHeardFromLeader} committed, but it did not set IsRemoved");
            }
            return;
        }
        var status = node.GetStatus();
        if (status.Voters.Contains(member.Id) || status.Learners.Contains(member.Id))
        {
            throw MembershipChecker.Violation($"membership: member {member.Id} set IsRemoved, but its membership at index {status.AppliedIndex} still holds it");
        }
        Trace.Add($"n{member.Id} applied its own removal: stopped for good");
        member.Retire(removed: true);
    }

    /// <summary>
    /// Whether a bit flip (which may quarantine the member for good) keeps a runnable majority: dead + 1 ≤ (voters − 1) / 2
    /// in the newest membership, and in the membership each of its live voters has applied so far (a member that has not
    /// heard that a change committed still needs a quorum of the one before, where a removed member counts as dead);
    /// voters counted as if every removal the operator asked for and has not seen applied still applies, dead ones as
    /// if every quarantined member not yet removed might still be a voter.
    /// </summary>
    private bool FlipKeepsRunnableMajority()
    {
        var newest = Membership.Newest;
        if (!KeepsRunnableMajority(newest))
        {
            return false;
        }
        foreach (var member in _members)
        {
            if (!member.IsDead && newest.Contains(member.Id) && member.LastView is { } view && view.IsVoter(member.Id) &&
                view.Index < newest.Index && !KeepsRunnableMajority(view))
            {
                return false;
            }
        }
        return true;
    }

    private bool KeepsRunnableMajority(MembershipView view)
    {
        var votersLow = view.Voters.Length - _removalsInDoubt.Keys.Count(view.IsVoter);
        var dead = view.Voters.Count(id => FindMember(id) is { IsDead: true }) +
                   _members.Count(m => m.IsQuarantined && !view.IsVoter(m.Id) && !Membership.IsGone(m.Id));
        return dead + 1 <= (votersLow - 1) / 2;
    }

    private void OnQuarantined() => _lastQuarantineMicros = Events.NowMicros;

    private void ScheduleOperator()
    {
        if (Parameters.MembershipIntervalMicros > 0)
        {
            Events.After(Random.NextInt64(Parameters.MembershipIntervalMicros * 2), OperatorActs);
        }
        if (Parameters.TransferIntervalMicros > 0 && Parameters.Nodes > 1)
        {
            Events.After(Random.NextInt64(Parameters.TransferIntervalMicros * 2), MoveLeader);
        }
    }

    private void OperatorActs()
    {
        if (!_faultPhase)
        {
            return;
        }
        var interval = Parameters.MembershipIntervalMicros;
        Events.After(interval / 2 + Random.NextInt64(interval), OperatorActs);
        if (_operatorBusy)
        {
            return;
        }
        var view = Membership.Newest;
        var asked = PickRunningVoter(view);
        if (asked is null)
        {
            return;
        }
        var dead = view.Voters.Concat(view.Learners).FirstOrDefault(id => FindMember(id) is not { IsDead: false });
        var learner = view.Learners.FirstOrDefault(id => FindMember(id) is { IsDead: false });
        if (dead != 0 && Random.NextDouble() < 0.7)
        {
            // The policy for a member that will never run again: remove it, then add a fresh one under a new id. (The
            // rest of the time the operator does something else, such as removing a healthy voter, which the node must
            // refuse when it would leave no majority able to run.)
            _replacements++;
            Submit(asked, new MemberChange(MemberChangeKind.Remove, dead, []), joiner: null);
        }
        else if (learner != 0)
        {
            Submit(asked, new MemberChange(MemberChangeKind.Promote, learner, []), joiner: null);
        }
        else if (view.Voters.Length < Parameters.Nodes && view.Learners.Length == 0 && _joiners < Parameters.JoinersMax)
        {
            AddFreshLearner(asked);
        }
        else
        {
            ActAtRandom(asked, view);
        }
    }

    private void ActAtRandom(SimMember asked, MembershipView view)
    {
        var roll = Random.NextDouble();
        var quarantineSettled = Events.NowMicros >= _lastQuarantineMicros + QuarantineNoticedMicros;
        if (roll < 0.35 && view.Voters.Length <= Parameters.Nodes && view.Learners.Length == 0 && _joiners < Parameters.JoinersMax)
        {
            AddFreshLearner(asked);
        }
        else if (roll < 0.7 && view.Voters.Length > Math.Max(1, Parameters.Nodes - 1) && quarantineSettled)
        {
            var leader = CurrentLeader();
            var victim = leader is not null && view.IsVoter(leader.Id) && Random.NextDouble() < 0.3
                ? leader.Id
                : view.Voters[Random.Next(view.Voters.Length)];
            if (victim == leader?.Id)
            {
                _leaderRemovals++;
            }
            Submit(asked, new MemberChange(MemberChangeKind.Remove, victim, []), joiner: null);
        }
        else if (roll < 0.9)
        {
            var members = view.Members;
            if (members.Count == 0)
            {
                return;
            }
            var target = members[Random.Next(members.Count)];
            // Now and then another member's peer URLs, which must be refused.
            var urls = Random.NextDouble() < 0.2 && members.Count > 1
                ? members.First(m => m.Id != target.Id).PeerUrls.ToList()
                : PeerUrls(target.Id, ++_urlGeneration);
            Submit(asked, new MemberChange(MemberChangeKind.Update, target.Id, urls), joiner: null);
        }
        else
        {
            // Requests that must be refused: a removed id added again, a voter promoted, an unknown member removed.
            var gone = _members.FirstOrDefault(m => Membership.IsGone(m.Id));
            var change = Random.Next(3) switch
            {
                0 when gone is not null => new MemberChange(MemberChangeKind.AddLearner, gone.Id, PeerUrls(gone.Id, ++_urlGeneration)),
                1 => new MemberChange(MemberChangeKind.Promote, view.Voters[Random.Next(view.Voters.Length)], []),
                _ => new MemberChange(MemberChangeKind.Remove, (ulong)_members.Count + 1000, []),
            };
            Submit(asked, change, joiner: null);
        }
    }

    /// <summary>A stale connection to a member that has crashed still looks alive for up to two election timeouts.</summary>
    private long QuarantineNoticedMicros => 3L * Parameters.ElectionTimeoutTicks * Parameters.TickMicros;

    private void AddFreshLearner(SimMember asked)
    {
        var id = (ulong)_members.Count + 1;
        var joiner = new SimMember(this, id, new SimulatedFileSystem(new Random(Random.Next())));
        _members.Add(joiner);
        _joiners++;
        Trace.Add($"n{id} starts with an empty disk to join");
        Start(joiner, flipped: null);
        Submit(asked, new MemberChange(MemberChangeKind.AddLearner, id, PeerUrls(id, 0)), joiner);
    }

    private void Submit(SimMember asked, MemberChange change, SimMember? joiner)
    {
        var node = asked.Node!;
        var operation = ++_operatorOperation;
        _operatorBusy = true;
        _membershipRequests++;
        if (change.Kind == MemberChangeKind.Remove && !_removalsInDoubt.ContainsKey(change.MemberId))
        {
            _removalsInDoubt[change.MemberId] = Events.NowMicros;
        }
        var description = $"{change.Kind} n{change.MemberId}" + (change.PeerUrls.Count > 0 ? $" [{string.Join(",", change.PeerUrls)}]" : "");
        Trace.Add($"operator: asks n{asked.Id} for {description}");
        node.SubmitMemberChange(change, result =>
        {
            Membership.OnRequestCompleted(asked.Id, change, result, node.GetStatus().AppliedIndex);
            OnMemberChangeEnded(change, result, joiner);
            Trace.Add($"operator: {description} at n{asked.Id}: {Describe(result)}");
            if (_operatorOperation == operation)
            {
                _operatorBusy = false;
            }
        });
        ScheduleTurn(asked);
        Events.After(2L * Parameters.RequestTimeoutTicks * Parameters.TickMicros, () =>
        {
            if (_operatorOperation == operation && _operatorBusy)
            {
                _operatorBusy = false; // the member crashed with the request: its outcome is unknown
            }
        });
    }

    private void OnMemberChangeEnded(MemberChange change, MemberChangeResult result, SimMember? joiner)
    {
        if (result.Error != NodeError.None)
        {
            return;
        }
        if (result.MemberError != MemberError.None)
        {
            _membershipRefused++;
            if (joiner is { IsDead: false })
            {
                Trace.Add($"n{joiner.Id} was refused: stopped for good");
                joiner.Retire(removed: false);
            }
            return;
        }
        _membershipApplied++;
        switch (change.Kind)
        {
            case MemberChangeKind.AddLearner:
                _learnersAdded++;
                break;
            case MemberChangeKind.Promote:
                _promotions++;
                break;
            case MemberChangeKind.Remove:
                _removals++;
                break;
            case MemberChangeKind.Update:
                _urlUpdates++;
                break;
        }
    }

    /// <summary>etcdctl move-leader: asks the leader (now and then a follower, or for a non-voter) to hand over.</summary>
    private void MoveLeader()
    {
        if (!_faultPhase)
        {
            return;
        }
        var interval = Parameters.TransferIntervalMicros;
        Events.After(interval / 2 + Random.NextInt64(interval), MoveLeader);
        var leader = CurrentLeader();
        if (leader?.Node is not { } leaderNode)
        {
            return;
        }
        var status = leaderNode.GetStatus();
        var others = status.Voters.Where(v => v != leader.Id).ToList();
        var roll = Random.NextDouble();
        var asked = leader;
        ulong target;
        if (roll < 0.1)
        {
            var followers = _members.Where(m => m.IsRunning && m != leader).ToList();
            if (followers.Count == 0 || others.Count == 0)
            {
                return;
            }
            asked = followers[Random.Next(followers.Count)];
            target = others[Random.Next(others.Count)];
        }
        else if (roll < 0.2)
        {
            target = status.Learners.Count > 0 ? status.Learners[0] : (ulong)_members.Count + 1000;
        }
        else if (others.Count > 0)
        {
            target = others[Random.Next(others.Count)];
        }
        else
        {
            return;
        }
        var node = asked.Node!;
        var askedStatus = asked == leader ? status : node.GetStatus();
        var expected = !askedStatus.IsLeader ? MemberError.NotLeader : !askedStatus.Voters.Contains(target) ? MemberError.BadTransferee : MemberError.None;
        _transfers++;
        Trace.Add($"operator: asks n{asked.Id} to move leadership to n{target}");
        var inCall = true;
        var answered = false;
        node.TransferLeadership(target, result =>
        {
            answered = true;
            if (result.MemberError is MemberError.NotLeader or MemberError.BadTransferee && (!inCall || result.MemberError != expected))
            {
                throw MembershipChecker.Violation(
                    $"move-leader to {target} at member {asked.Id} refused as \"{MemberErrors.Message(result.MemberError)}\", expected \"{MemberErrors.Message(expected)}\"");
            }
            if (result.IsSuccess)
            {
                if (node.Leader != target)
                {
                    throw MembershipChecker.Violation($"move-leader to {target} at member {asked.Id} succeeded while member {node.Leader} leads");
                }
                _transfersCompleted++;
            }
            Trace.Add($"operator: move-leader to n{target} at n{asked.Id}: {Describe(result)}");
        });
        inCall = false;
        if (expected != MemberError.None && !answered)
        {
            throw MembershipChecker.Violation(
                $"move-leader to {target} at member {asked.Id} was not refused at once as \"{MemberErrors.Message(expected)}\"");
        }
        ScheduleTurn(asked);
    }

    private SimMember? PickRunningVoter(MembershipView view)
    {
        var running = view.Voters.Select(FindMember).Where(m => m is { IsRunning: true }).ToList();
        return running.Count == 0 ? null : running[Random.Next(running.Count)];
    }

    /// <summary>The running member that leads the highest term, if any.</summary>
    private SimMember? CurrentLeader()
    {
        SimMember? leader = null;
        ulong term = 0;
        foreach (var member in _members)
        {
            if (member.Node is { } node && node.Leader == member.Id && node.GetStatus() is { IsLeader: true } status && status.Term > term)
            {
                leader = member;
                term = status.Term;
            }
        }
        return leader;
    }

    private static string Describe(MemberChangeResult result) =>
        result.Error != NodeError.None ? NodeErrors.Message(result.Error) :
        result.MemberError != MemberError.None ? MemberErrors.Message(result.MemberError) :
        $"ok, members [{MembershipView.DescribeMembers(result.Members)}]";
}
