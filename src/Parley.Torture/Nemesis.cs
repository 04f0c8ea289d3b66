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

    public Nemesis(TortureCluster cluster, IReadOnlyList<FaultKind> kinds, int seed, RunClock clock, TextWriter schedule, int electionTimeoutMs)
    {
        _cluster = cluster;
        _kinds = kinds;
        _random = new Random(seed);
        _clock = clock;
        _schedule = schedule;
        _electionTimeoutMs = electionTimeoutMs;
    }

    public IReadOnlyDictionary<FaultKind, int> Counts => _counts;

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
                var active = new List<Func<Task>>();
                var first = _kinds[_random.Next(_kinds.Count)];
                active.Add(await InjectAsync(first).ConfigureAwait(false));
                if (_kinds.Count > 1 && _random.Next(3) == 0)
                {
                    var second = _kinds[_random.Next(_kinds.Count)];
                    if (second != first)
                    {
                        active.Add(await InjectAsync(second).ConfigureAwait(false));
                    }
                }
                await Task.Delay(hold, cancellation).ConfigureAwait(false);
                foreach (var heal in Enumerable.Reverse(active))
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
            _cluster.HealAll();
            Log("heal-all", "every member resumed or restarted, network healed");
        }
    }

    /// <summary>Injects one fault now and returns how to heal it.</summary>
    public async Task<Func<Task>> InjectAsync(FaultKind kind)
    {
        _counts[kind] = _counts.GetValueOrDefault(kind) + 1;
        var name = FaultKinds.Name(kind);
        var size = _cluster.Size;
        switch (kind)
        {
            case FaultKind.Kill:
            case FaultKind.KillLeader:
            {
                var member = kind == FaultKind.KillLeader ? await LeaderOrRandomAsync().ConfigureAwait(false) : _random.Next(size);
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
                for (var member = 0; member < size; member++)
                {
                    _cluster.Kill(member);
                }
                Log(name, "SIGKILL every member");
                return () =>
                {
                    for (var member = 0; member < size; member++)
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
                var member = kind == FaultKind.PauseLeader ? await LeaderOrRandomAsync().ConfigureAwait(false) : _random.Next(size);
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
                var order = Enumerable.Range(0, size).OrderBy(_ => _random.Next()).ToArray();
                var minority = order[..((size - 1) / 2)];
                return Partition(name, minority, order[minority.Length..]);
            }
            case FaultKind.PartitionLeader:
            {
                var leader = await LeaderOrRandomAsync().ConfigureAwait(false);
                return Partition(name, [leader], Enumerable.Range(0, size).Where(member => member != leader).ToArray());
            }
            case FaultKind.PartitionBridge:
            {
                var order = Enumerable.Range(0, size).OrderBy(_ => _random.Next()).ToArray();
                var bridge = order[0];
                var left = order[1..(1 + (size - 1) / 2)];
                var right = order[(1 + left.Length)..];
                var heal = Partition(name, left, right, $" (bridge {_cluster.Names[bridge]} talks to both)");
                return heal;
            }
            case FaultKind.PartitionAsymmetric:
            {
                var member = _random.Next(size);
                var others = Enumerable.Range(0, size).Where(other => other != member).ToArray();
                foreach (var other in others)
                {
                    _cluster.Faults.Block(member, other);
                }
                Log(name, $"{_cluster.Names[member]} -> everybody dropped; it still hears everybody");
                return () =>
                {
                    foreach (var other in others)
                    {
                        _cluster.Faults.Unblock(member, other);
                    }
                    Log("heal " + name, $"{_cluster.Names[member]} -> everybody restored");
                    return Task.CompletedTask;
                };
            }
            case FaultKind.Latency:
            {
                var delayMs = 20 + _random.Next(_electionTimeoutMs / 2);
                var jitterMs = delayMs / 2;
                _cluster.Faults.SetDelay(delayMs, jitterMs);
                Log(name, $"every peer frame delayed {delayMs} ms + up to {jitterMs} ms");
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
                Log(name, string.Create(CultureInfo.InvariantCulture, $"{rate:P0} of peer frames dropped"));
                return () =>
                {
                    _cluster.Faults.SetLossRate(0);
                    Log("heal " + name, "no loss");
                    return Task.CompletedTask;
                };
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown fault");
        }
    }

    private Func<Task> Partition(string name, int[] left, int[] right, string note = "")
    {
        foreach (var a in left)
        {
            foreach (var b in right)
            {
                _cluster.Faults.Block(a, b);
                _cluster.Faults.Block(b, a);
            }
        }
        var description = $"{Names(left)} | {Names(right)}{note}";
        Log(name, description);
        return () =>
        {
            foreach (var a in left)
            {
                foreach (var b in right)
                {
                    _cluster.Faults.Unblock(a, b);
                    _cluster.Faults.Unblock(b, a);
                }
            }
            Log("heal " + name, description);
            return Task.CompletedTask;
        };
    }

    private string Names(int[] members) => "{" + string.Join(",", members.Order().Select(member => _cluster.Names[member])) + "}";

    private async Task<int> LeaderOrRandomAsync() => await _cluster.LeaderAsync().ConfigureAwait(false) ?? _random.Next(_cluster.Size);

    private void Log(string what, string detail)
    {
        lock (_schedule)
        {
            _schedule.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_clock.Elapsed.TotalMilliseconds,9:F0} ms  {_clock.NowNs,15} ns  {what,-28} {detail}"));
            _schedule.Flush();
        }
    }
}
