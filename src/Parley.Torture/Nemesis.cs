using System.Globalization;

namespace Parley.Torture;

/// <summary>
/// Injects faults into a <see cref="TortureCluster"/> while the clients run: quiet, one fault (or two at once,
/// combined), hold, heal; repeat until the load stops. Every step is written to the schedule with its time, so a
/// failing run can be read against the history.
/// </summary>
internal sealed class Nemesis
{
    private readonly TortureCluster _cluster;
    private readonly IReadOnlyList<FaultKind> _kinds;
    private readonly Random _random;
    private readonly RunClock _clock;
    private readonly TextWriter _schedule;
    private readonly int _electionTimeoutMs;
    private readonly Dictionary<FaultKind, int> _counts = [];
    private readonly CancellationToken _cancellation;

    public Nemesis(TortureCluster cluster, IReadOnlyList<FaultKind> kinds, int seed, RunClock clock, TextWriter schedule, int electionTimeoutMs, CancellationToken cancellation)
    {
        _cluster = cluster;
        _kinds = kinds;
        _random = new Random(seed);
        _clock = clock;
        _schedule = schedule;
        _electionTimeoutMs = electionTimeoutMs;
        _cancellation = cancellation;
        Membership = new MembershipChanger(cluster, new Random(seed + 7), Log);
    }

    /// <summary>Faults injected per kind (a membership change or leader move that the cluster refused is not counted).</summary>
    public IReadOnlyDictionary<FaultKind, int> Counts => _counts;

    public MembershipChanger Membership { get; }

    /// <summary>Runs fault cycles until <paramref name="until"/> (run time), then heals everything.</summary>
    public async Task RunAsync(TimeSpan until, CancellationToken cancellation)
    {
        try
        {
            while (_kinds.Count > 0 && !cancellation.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500 + _random.Next(1500)), cancellation).ConfigureAwait(false);
                var hold = TimeSpan.FromMilliseconds(Math.Max(3 * _electionTimeoutMs, 1500) + _random.Next(3000));
                if (_clock.Elapsed + hold > until)
                {
                    break;
                }
                var active = new List<(FaultKind Kind, Func<Task> Heal)>();
                var first = _kinds[_random.Next(_kinds.Count)];
                active.Add((first, await InjectAsync(first).ConfigureAwait(false)));
                if (_kinds.Count > 1 && _random.Next(3) == 0)
                {
                    var second = _kinds[_random.Next(_kinds.Count)];
                    if (second != first)
                    {
                        active.Add((second, await InjectAsync(second).ConfigureAwait(false)));
                    }
                }
                await Task.Delay(hold, cancellation).ConfigureAwait(false);
                await Membership.SettleUncertainRemovalsAsync().ConfigureAwait(false); // a removed member is not restarted
                // Network and process faults first (last injected, first healed), then finish membership changes.
                foreach (var (_, heal) in Enumerable.Reverse(active).OrderBy(fault => fault.Kind is FaultKind.MemberChange or FaultKind.MoveLeader))
                {
                    await heal().ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping early
        }
        finally
        {
            await Membership.SettleUncertainRemovalsAsync().ConfigureAwait(false); // before restarting what stopped
            Membership.RestartRefusedJoin();
            _cluster.HealAll();
            Log("heal-all", "every member resumed or restarted, network healed");
        }
    }

    /// <summary>Injects one fault now and returns how to heal it.</summary>
    public async Task<Func<Task>> InjectAsync(FaultKind kind)
    {
        if (await InjectOrSkipAsync(kind).ConfigureAwait(false) is { } heal)
        {
            _counts[kind] = _counts.GetValueOrDefault(kind) + 1;
            return heal;
        }
        return () => Task.CompletedTask;
    }

    /// <summary>Injects one fault, or returns null when the cluster refused it (membership changes, leader moves).</summary>
    private async Task<Func<Task>?> InjectOrSkipAsync(FaultKind kind)
    {
        var name = FaultKinds.Name(kind);
        var members = _cluster.Members.ToArray();
        var size = members.Length;
        switch (kind)
        {
            case FaultKind.Kill:
            case FaultKind.KillLeader:
            {
                var member = kind == FaultKind.KillLeader ? await LeaderOrRandomAsync().ConfigureAwait(false) : members[_random.Next(size)];
                _cluster.Kill(member);
                Log(name, $"SIGKILL {_cluster.Names[member]}");
                return () =>
                {
                    _cluster.Start(member);
                    Log("heal " + name, $"restart {_cluster.Names[member]}");
                    return Task.CompletedTask;
                };
            }
            case FaultKind.KillAll:
            {
                foreach (var member in members)
                {
                    _cluster.Kill(member);
                }
                Log(name, "SIGKILL every member");
                return () =>
                {
                    foreach (var member in members)
                    {
                        _cluster.Start(member);
                    }
                    Log("heal " + name, "restart every member");
                    return Task.CompletedTask;
                };
            }
            case FaultKind.Pause:
            case FaultKind.PauseLeader:
            {
                var member = kind == FaultKind.PauseLeader ? await LeaderOrRandomAsync().ConfigureAwait(false) : members[_random.Next(size)];
                _cluster.Pause(member);
                Log(name, $"SIGSTOP {_cluster.Names[member]}");
                return () =>
                {
                    _cluster.Resume(member);
                    Log("heal " + name, $"SIGCONT {_cluster.Names[member]}");
                    return Task.CompletedTask;
                };
            }
            case FaultKind.PartitionHalves:
            {
                var order = members.OrderBy(_ => _random.Next()).ToArray();
                var minority = order[..((size - 1) / 2)];
                return Partition(name, minority, order[minority.Length..]);
            }
            case FaultKind.PartitionLeader:
            {
                var leader = await LeaderOrRandomAsync().ConfigureAwait(false);
                return Partition(name, [leader], members.Where(member => member != leader).ToArray());
            }
            case FaultKind.PartitionBridge:
            {
                var order = members.OrderBy(_ => _random.Next()).ToArray();
                var bridge = order[0];
                var left = order[1..(1 + (size - 1) / 2)];
                var right = order[(1 + left.Length)..];
                var heal = Partition(name, left, right, $" (bridge {_cluster.Names[bridge]} talks to both)");
                return heal;
            }
            case FaultKind.PartitionAsymmetric:
            {
                var member = members[_random.Next(size)];
                var outgoing = members.Where(other => other != member).Select(other => (member, other)).ToArray();
                _cluster.Faults.Block(outgoing);
                Log(name, $"{_cluster.Names[member]} -> everybody dropped ({_cluster.FaultUnit}); it still hears everybody");
                return () =>
                {
                    _cluster.Faults.Unblock(outgoing);
                    Log("heal " + name, $"{_cluster.Names[member]} -> everybody restored");
                    return Task.CompletedTask;
                };
            }
            case FaultKind.Latency:
            {
                var delayMs = 20 + _random.Next(_electionTimeoutMs / 2);
                var jitterMs = delayMs / 2;
                _cluster.Faults.SetDelay(delayMs, jitterMs);
                Log(name, $"{_cluster.FaultUnit} delayed {delayMs} ms + up to {jitterMs} ms");
                return () =>
                {
                    _cluster.Faults.SetDelay(0, 0);
                    Log("heal " + name, "no delay");
                    return Task.CompletedTask;
                };
            }
            case FaultKind.Loss:
            {
                var rate = 0.05 + _random.NextDouble() * 0.35;
                _cluster.Faults.SetLossRate(rate);
                Log(name, string.Create(CultureInfo.InvariantCulture, $"{rate:P0} of {_cluster.FaultUnit} dropped"));
                return () =>
                {
                    _cluster.Faults.SetLossRate(0);
                    Log("heal " + name, "no loss");
                    return Task.CompletedTask;
                };
            }
            case FaultKind.MemberChange:
            {
                // One time in three the leader goes: its successor is elected among the others.
                if (!await Membership.ReplaceAsync(leader: _random.Next(3) == 0, _cancellation).ConfigureAwait(false))
                {
                    return null;
                }
                return async () => await Membership.CompleteJoinAsync(TimeSpan.FromSeconds(30), _cancellation).ConfigureAwait(false);
            }
            case FaultKind.MoveLeader:
                return await Membership.MoveLeaderAsync(_cancellation).ConfigureAwait(false) ? () => Task.CompletedTask : null;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown fault");
        }
    }

    /// <summary>Cuts both directions between every member of one side and every member of the other, as one change.</summary>
    private Func<Task> Partition(string name, int[] left, int[] right, string note = "")
    {
        var links = left.SelectMany(a => right.SelectMany(b => new[] { (a, b), (b, a) })).ToArray();
        _cluster.Faults.Block(links);
        var description = $"{Names(left)} | {Names(right)}{note}";
        Log(name, description);
        return () =>
        {
            _cluster.Faults.Unblock(links);
            Log("heal " + name, description);
            return Task.CompletedTask;
        };
    }

    private string Names(int[] members) => "{" + string.Join(",", members.Order().Select(member => _cluster.Names[member])) + "}";

    private async Task<int> LeaderOrRandomAsync()
    {
        var members = _cluster.Members;
        return await _cluster.LeaderAsync().ConfigureAwait(false) ?? members[_random.Next(members.Count)];
    }

    private void Log(string what, string detail)
    {
        lock (_schedule)
        {
            _schedule.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_clock.Elapsed.TotalMilliseconds,9:F0} ms  {_clock.NowNs,15} ns  {what,-28} {detail}"));
            _schedule.Flush();
        }
    }
}
