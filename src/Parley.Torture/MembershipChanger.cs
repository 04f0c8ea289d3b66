using System.Diagnostics;
using System.Globalization;
using Etcdserverpb;
using Grpc.Core;

namespace Parley.Torture;

/// <summary>
/// The membership nemesis, through etcd's Cluster and Maintenance APIs only. <c>member-change</c> removes a voter
/// (sometimes the leader) and adds a fresh member in its place, as an operator replaces a machine: MemberAdd as a
/// learner (new name, ports, data directory, behind its own proxy), start it with
/// <c>--initial-cluster-state existing</c>, then MemberPromote, retried while the cluster answers that the learner is
/// not yet in sync with the leader. <c>move-leader</c> hands leadership to a random voter. A request whose outcome is
/// unknown (timeout, connection lost) is settled from the member list; a refusal (unhealthy cluster, not enough
/// started members) is logged and the change is not made.
/// </summary>
internal sealed class MembershipChanger
{
    private const string NotInSync = "in sync with leader";
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    private readonly TortureCluster _cluster;
    private readonly Random _random;
    private readonly Action<string, string> _log;

    /// <summary>A slot being added: allocated, maybe accepted as a learner and started, not yet promoted.</summary>
    private int? _joining;

    /// <summary>"Not in sync with leader" answers to the joining member's promotion so far.</summary>
    private int _joinRefusals;

    /// <summary>Members whose removal was asked for without an answer: it may still happen.</summary>
    private readonly HashSet<int> _uncertainRemovals = [];

    public MembershipChanger(TortureCluster cluster, Random random, Action<string, string> log)
    {
        _cluster = cluster;
        _random = random;
        _log = log;
    }

    /// <summary>What the membership nemesis did in the run.</summary>
    public MembershipSummary Summary { get; private set; } = MembershipSummary.None;

    /// <summary>Removed members that stopped without saying why (a crash, not the removal): anomalies.</summary>
    public IReadOnlyList<string> Findings => _findings;

    private readonly List<string> _findings = [];

    /// <summary>True while a member is being added (the member count is one short until it is promoted).</summary>
    public bool IsJoining => _joining is not null;

    /// <summary>
    /// Removes a voter (the leader when <paramref name="leader"/> and one is known) and adds a fresh learner in its
    /// place, started at once; the promotion happens in <see cref="CompleteJoinAsync"/>. False when the removal was
    /// refused or not possible now (nothing changed).
    /// </summary>
    public async Task<bool> ReplaceAsync(bool leader, CancellationToken cancellation)
    {
        await SettleUncertainRemovalsAsync().ConfigureAwait(false);
        if (_joining is not null && !await CompleteJoinAsync(TimeSpan.FromSeconds(10), cancellation).ConfigureAwait(false))
        {
            _log("member-change", $"skipped: {Name(_joining.Value)} is still joining");
            return false;
        }
        var voters = _cluster.Voters;
        if (voters.Count < 2)
        {
            _log("member-change", "skipped: fewer than two voters");
            return false;
        }
        var leaderSlot = leader ? await _cluster.LeaderAsync().ConfigureAwait(false) : null;
        var victim = leaderSlot is { } known && voters.Contains(known) ? known : voters[_random.Next(voters.Count)];
        if (!await RemoveAsync(victim, leaderSlot == victim, cancellation).ConfigureAwait(false))
        {
            Summary = Summary with { NotDone = Summary.NotDone + 1 };
            return false;
        }
        if (leaderSlot == victim)
        {
            Summary = Summary with { LeadersRemoved = Summary.LeadersRemoved + 1 };
        }
        _joining = _cluster.AddSlot();
        _joinRefusals = 0;
        if (await AddLearnerAsync(_joining.Value, TimeSpan.FromSeconds(15), cancellation).ConfigureAwait(false))
        {
            // At once, as an impatient operator would: normally refused (not in sync yet); the heal retries.
            await CompleteJoinAsync(TimeSpan.Zero, cancellation).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>
    /// Adds (if not yet accepted), starts and promotes the joining member, trying at least once and retrying until
    /// <paramref name="timeout"/>; true when there is none left.
    /// </summary>
    public async Task<bool> CompleteJoinAsync(TimeSpan timeout, CancellationToken cancellation)
    {
        if (_joining is not { } member)
        {
            return true;
        }
        var started = Stopwatch.GetTimestamp();
        if (!_cluster.IsLearner(member) && !await AddLearnerAsync(member, timeout, cancellation).ConfigureAwait(false))
        {
            return false;
        }
        var id = _cluster.MemberId(member);
        string last = "no answer yet";
        do
        {
            RestartRefusedJoin();
            foreach (var through in Shuffled(_cluster.Voters))
            {
                try
                {
                    await new Cluster.ClusterClient(_cluster.Channel(through)).MemberPromoteAsync(new MemberPromoteRequest { ID = id },
                        deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellation).ConfigureAwait(false);
                    Promoted(member, "");
                    return true;
                }
                catch (RpcException exception) when (exception.Status.Detail.Contains(NotInSync, StringComparison.Ordinal))
                {
                    _joinRefusals++;
                    Summary = Summary with { NotInSyncRefusals = Summary.NotInSyncRefusals + 1 };
                    last = exception.Status.Detail;
                    break; // the leader said so: ask again a little later
                }
                catch (RpcException exception) when (exception.Status.Detail == "etcdserver: can only promote a learner member")
                {
                    Promoted(member, " (an earlier promote without an answer had landed)");
                    return true;
                }
                catch (RpcException exception)
                {
                    last = $"{exception.StatusCode}: {exception.Status.Detail} (through {Name(through)})";
                }
            }
            if (Stopwatch.GetElapsedTime(started) < timeout)
            {
                await Task.Delay(300, cancellation).ConfigureAwait(false);
            }
        }
        while (Stopwatch.GetElapsedTime(started) < timeout);
        _log("member-change", $"{Name(member)} not promoted yet after {timeout.TotalSeconds:F0} s ({_joinRefusals} 'not in sync' refusals so far; last: {last})");
        return false;
    }

    /// <summary>
    /// A joining member that stopped at start because the member answering its join query had not applied its
    /// addition yet ("the cluster has no member with peer URLs ..."; etcd's joining member has the same race: it takes
    /// the first answer) is started again, as an operator would. Call before anything restarts stopped members.
    /// </summary>
    public void RestartRefusedJoin()
    {
        if (_joining is not { } member || !_cluster.IsLearner(member) || !_cluster.ExitedByItself(member))
        {
            return;
        }
        var log = File.ReadAllText(_cluster.LogPath(member));
        var lastStart = log.LastIndexOf("=== torture: start #", StringComparison.Ordinal);
        if (log.IndexOf("the cluster has no member with peer URLs", Math.Max(0, lastStart), StringComparison.Ordinal) < 0)
        {
            return; // stopped for another reason: a crash, reported when it is restarted
        }
        Summary = Summary with { JoinRestarts = Summary.JoinRestarts + 1 };
        _cluster.Start(member, exitExpected: true);
        _log("member-change", $"{Name(member)} stopped at start: the member that answered its join query had not applied its addition yet; started again");
    }

    /// <summary>MoveLeader to a random other voter, asked of the leader. False when there is no leader or it refused.</summary>
    public async Task<bool> MoveLeaderAsync(CancellationToken cancellation)
    {
        var leader = await _cluster.LeaderAsync().ConfigureAwait(false);
        var targets = _cluster.Voters.Where(voter => voter != leader).ToList();
        if (leader is not { } from || targets.Count == 0)
        {
            _log("move-leader", "skipped: no leader known, or no other voter");
            return false;
        }
        var target = targets[_random.Next(targets.Count)];
        try
        {
            await new Maintenance.MaintenanceClient(_cluster.Channel(from)).MoveLeaderAsync(new MoveLeaderRequest { TargetID = _cluster.MemberId(target) },
                deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellation).ConfigureAwait(false);
            Summary = Summary with { LeaderMoves = Summary.LeaderMoves + 1 };
            _log("move-leader", $"{Name(from)} -> {Name(target)}");
            return true;
        }
        catch (RpcException exception)
        {
            Summary = Summary with { NotDone = Summary.NotDone + 1 };
            _log("move-leader", $"{Name(from)} -> {Name(target)} refused: {exception.StatusCode}: {exception.Status.Detail}");
            return false;
        }
    }

    /// <summary>
    /// After healing: the membership every member reports must be the one this nemesis made (same ids, all voters).
    /// A removal whose outcome was unknown is settled first.
    /// </summary>
    public async Task<List<string>> CheckMembershipAsync()
    {
        await SettleUncertainRemovalsAsync().ConfigureAwait(false);
        var findings = new List<string>();
        var expected = _cluster.Members.Select(member => (_cluster.MemberId(member), _cluster.IsLearner(member))).Order().ToList();
        foreach (var member in _cluster.Members)
        {
            var listed = await _cluster.MemberListAsync(member).ConfigureAwait(false);
            if (listed is null)
            {
                findings.Add($"{Name(member)} did not answer MemberList after healing");
                continue;
            }
            var actual = listed.Members.Select(entry => (entry.ID, entry.IsLearner)).Order().ToList();
            if (!actual.SequenceEqual(expected))
            {
                findings.Add($"{Name(member)} lists members {Describe(actual)}, expected {Describe(expected)}");
            }
        }
        return findings;
    }

    private async Task<bool> RemoveAsync(int victim, bool isLeader, CancellationToken cancellation)
    {
        var id = _cluster.MemberId(victim);
        var what = $"remove {Name(victim)}{(isLeader ? " (the leader)" : "")}";
        var started = Stopwatch.GetTimestamp();
        string? last = null;
        var unanswered = false;
        while (Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(8))
        {
            // Through the others first: a removed member's own answer may not come back.
            foreach (var through in Shuffled(_cluster.Voters.Where(voter => voter != victim)).Append(victim))
            {
                try
                {
                    await new Cluster.ClusterClient(_cluster.Channel(through)).MemberRemoveAsync(new MemberRemoveRequest { ID = id },
                        deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellation).ConfigureAwait(false);
                    await RemovedAsync(victim, what, "").ConfigureAwait(false);
                    return true;
                }
                catch (RpcException exception) when (exception.Status.Detail == "etcdserver: member not found" && unanswered)
                {
                    await RemovedAsync(victim, what, " (an earlier request without an answer had landed)").ConfigureAwait(false);
                    return true;
                }
                catch (RpcException exception) when (IsRefusal(exception))
                {
                    last = exception.Status.Detail;
                    break;
                }
                catch (RpcException exception)
                {
                    unanswered = true;
                    last = $"{exception.StatusCode}: {exception.Status.Detail} (through {Name(through)})";
                }
            }
            await Task.Delay(500, cancellation).ConfigureAwait(false);
        }
        if (unanswered)
        {
            _uncertainRemovals.Add(victim);
            await SettleUncertainRemovalsAsync().ConfigureAwait(false);
            if (_cluster.IsRemoved(victim))
            {
                return true;
            }
        }
        _log("member-change", unanswered
            ? $"{what}: not done as far as the leader knows; a request went unanswered, so it may still happen (last answer: {last})"
            : $"{what}: not done ({last})");
        return false;
    }

    private static bool IsRefusal(RpcException exception) =>
        exception.Status.Detail is "etcdserver: unhealthy cluster" or "etcdserver: re-configuration failed due to not enough started members";

    /// <summary>
    /// Marks the member removed, waits for it to stop by itself (as a removed etcd member does), then retires it (in
    /// netns mode its namespace goes).
    /// </summary>
    private async Task RemovedAsync(int victim, string what, string note)
    {
        try
        {
            await AwaitRemovedMemberStopAsync(victim, what, note).ConfigureAwait(false);
        }
        finally
        {
            _cluster.Retire(victim);
        }
    }

    private async Task AwaitRemovedMemberStopAsync(int victim, string what, string note)
    {
        Summary = Summary with { Removed = Summary.Removed + 1 };
        _uncertainRemovals.Remove(victim);
        _cluster.MarkRemoved(victim);
        if (_cluster.ExitedByItself(victim))
        {
            StoppedByItself(victim, what + ": done" + note, "");
            return;
        }
        if (!_cluster.IsRunning(victim) || _cluster.IsPaused(victim))
        {
            _cluster.Kill(victim);
            _log("member-change", $"{what}: done{note}; it was down or paused, so it stays down");
            return;
        }
        var started = Stopwatch.GetTimestamp();
        while (!_cluster.ExitedByItself(victim) && Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
        }
        if (_cluster.ExitedByItself(victim))
        {
            StoppedByItself(victim, what + ": done" + note, string.Create(CultureInfo.InvariantCulture, $" after {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms"));
        }
        else
        {
            Summary = Summary with { KilledAfterRemoval = Summary.KilledAfterRemoval + 1 };
            _cluster.Kill(victim);
            _log("member-change", $"{what}: done{note}; it was still running 10 s later (never learned of its removal), killed");
        }
    }

    /// <summary>A removed member's process ended: it must say it was removed (anything else is a crash).</summary>
    private void StoppedByItself(int victim, string what, string after)
    {
        if (File.ReadAllText(_cluster.LogPath(victim)).Contains("permanently removed", StringComparison.Ordinal))
        {
            Summary = Summary with { StoppedByThemselves = Summary.StoppedByThemselves + 1 };
            _log("member-change", $"{what}; it stopped by itself{after} ('permanently removed')");
        }
        else
        {
            _findings.Add($"{Name(victim)} stopped after its removal without saying 'permanently removed' (see {_cluster.LogPath(victim)})");
            _log("member-change", $"{what}; it stopped by itself{after}, without a removal message");
        }
    }

    /// <summary>MemberAdd as a learner (retried; an unanswered add is looked up by peer URL), then start the process.</summary>
    private async Task<bool> AddLearnerAsync(int member, TimeSpan timeout, CancellationToken cancellation)
    {
        var peerUrl = _cluster.PeerUrl(member);
        var started = Stopwatch.GetTimestamp();
        string? last = null;
        while (Stopwatch.GetElapsedTime(started) < timeout)
        {
            foreach (var through in Shuffled(_cluster.Voters))
            {
                try
                {
                    var request = new MemberAddRequest { IsLearner = true };
                    request.PeerURLs.Add(peerUrl);
                    var response = await new Cluster.ClusterClient(_cluster.Channel(through)).MemberAddAsync(request,
                        deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellation).ConfigureAwait(false);
                    return Accepted(member, response.Member.ID, "");
                }
                catch (RpcException exception) when (exception.Status.Detail == "etcdserver: Peer URLs already exists")
                {
                    var listed = await _cluster.MemberListAsync(through).ConfigureAwait(false);
                    if (listed?.Members.FirstOrDefault(entry => entry.PeerURLs.Any(url => TortureCluster.SameEndpoint(url, peerUrl))) is { } entry)
                    {
                        return Accepted(member, entry.ID, " (an earlier add without an answer had landed)");
                    }
                    last = exception.Status.Detail;
                }
                catch (RpcException exception) when (IsRefusal(exception) || exception.Status.Detail == "etcdserver: too many learner members in cluster")
                {
                    last = exception.Status.Detail;
                    break;
                }
                catch (RpcException exception)
                {
                    last = $"{exception.StatusCode}: {exception.Status.Detail} (through {Name(through)})";
                }
            }
            await Task.Delay(500, cancellation).ConfigureAwait(false);
        }
        _log("member-change", $"add {Name(member)} as a learner: not done yet ({last})");
        return false;
    }

    private bool Accepted(int member, ulong id, string note)
    {
        Summary = Summary with { Added = Summary.Added + 1 };
        _cluster.MarkLearner(member, id);
        _cluster.Start(member);
        _log("member-change", string.Create(CultureInfo.InvariantCulture,
            $"add {Name(member)} ({id:x}, {_cluster.PeerUrl(member)}) as a learner: done{note}; started with --initial-cluster-state existing"));
        return true;
    }

    private void Promoted(int member, string note)
    {
        Summary = Summary with { Promoted = Summary.Promoted + 1 };
        _cluster.MarkVoter(member);
        _joining = null;
        _log("member-change", string.Create(CultureInfo.InvariantCulture,
            $"promote {Name(member)}: done after {_joinRefusals} 'not in sync with leader' refusals{note}; members now {string.Join(",", _cluster.Members.Select(Name))}"));
    }

    /// <summary>
    /// A removal asked for without an answer took effect when the member stopped by itself saying it was removed, or
    /// when the leader's member list no longer has the id. Called before anything restarts stopped members, and again
    /// while the final checks wait for the healed cluster (a removal proposed before a partition may commit after it).
    /// </summary>
    public async Task SettleUncertainRemovalsAsync()
    {
        foreach (var victim in _uncertainRemovals.ToList())
        {
            if (_cluster.ExitedByItself(victim) && File.ReadAllText(_cluster.LogPath(victim)).Contains("permanently removed", StringComparison.Ordinal))
            {
                await RemovedAsync(victim, $"remove {Name(victim)}", " (a request without an answer had landed: it stopped, 'permanently removed')").ConfigureAwait(false);
            }
        }
        if (_uncertainRemovals.Count == 0 || await _cluster.LeaderAsync().ConfigureAwait(false) is not { } leader
            || await _cluster.MemberListAsync(leader).ConfigureAwait(false) is not { } listed)
        {
            return;
        }
        foreach (var victim in _uncertainRemovals.ToList())
        {
            if (listed.Members.All(entry => entry.ID != _cluster.MemberId(victim)))
            {
                await RemovedAsync(victim, $"remove {Name(victim)}", " (a request without an answer had landed)").ConfigureAwait(false);
            }
        }
    }

    private List<int> Shuffled(IEnumerable<int> members) => [.. members.OrderBy(_ => _random.Next())];

    private string Name(int member) => _cluster.Names[member];

    private string Describe(List<(ulong Id, bool IsLearner)> members) =>
        "{" + string.Join(", ", members.Select(member => member.Id.ToString("x", CultureInfo.InvariantCulture) + (member.IsLearner ? " (learner)" : ""))) + "}";
}

/// <summary>
/// What the membership nemesis did: members removed (the leader among them), added and promoted (after how many
/// "not in sync with leader" refusals), removed members that stopped by themselves or had to be killed (never learned
/// of their removal), leader moves, changes or moves the cluster refused, and joining members started again because
/// their join query was answered by a member that had not applied their addition yet.
/// </summary>
public sealed record MembershipSummary(int Removed, int LeadersRemoved, int Added, int Promoted, int NotInSyncRefusals,
    int StoppedByThemselves, int KilledAfterRemoval, int LeaderMoves, int NotDone, int JoinRestarts)
{
    public static readonly MembershipSummary None = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    public static MembershipSummary Sum(IEnumerable<MembershipSummary> summaries) => summaries.Aggregate(None, (total, one) => new(
        total.Removed + one.Removed, total.LeadersRemoved + one.LeadersRemoved, total.Added + one.Added, total.Promoted + one.Promoted,
        total.NotInSyncRefusals + one.NotInSyncRefusals, total.StoppedByThemselves + one.StoppedByThemselves,
        total.KilledAfterRemoval + one.KilledAfterRemoval, total.LeaderMoves + one.LeaderMoves, total.NotDone + one.NotDone,
        total.JoinRestarts + one.JoinRestarts));
}
