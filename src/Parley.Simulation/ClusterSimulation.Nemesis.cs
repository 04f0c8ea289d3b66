using Parley.Raft;

namespace Parley.Simulation;

public sealed partial class ClusterSimulation
{
    private bool _partitioned;

    private void ScheduleNemeses()
    {
        Recurring(Parameters.CrashIntervalMicros, CrashSomeone);
        Recurring(Parameters.PartitionIntervalMicros, Partition);
        Recurring(Parameters.MembershipChangeIntervalMicros, ChangeMembership);
        Recurring(Parameters.TransferIntervalMicros, TransferLeadership);
    }

    private void Recurring(long meanIntervalMicros, Action action)
    {
        if (meanIntervalMicros <= 0)
        {
            return;
        }
        Events.After(meanIntervalMicros / 2 + Random.NextInt64(meanIntervalMicros), () =>
        {
            if (!_faultPhase)
            {
                return;
            }
            action();
            Recurring(meanIntervalMicros, action);
        });
    }

    private List<SimNode> Members() => _nodes.Where(n => !n.IsRemoved).ToList();

    private void CrashSomeone()
    {
        var running = _nodes.Where(n => n.IsRunning).ToList();
        if (running.Count == 0)
        {
            return;
        }
        var leader = CurrentLeader();
        var victim = leader is not null && Random.Next(2) == 0 ? leader : running[Random.Next(running.Count)];
        CrashAndRestartLater(victim);
    }

    internal void OnLeaderFirstCommit(SimNode leader)
    {
        if (_faultPhase && Random.NextDouble() < Parameters.LeaderCrashOnCommitProbability)
        {
            Trace.Add($"n{leader.Id} crashes as it first commits in its term");
            CrashAndRestartLater(leader);
        }
    }

    private void CrashAndRestartLater(SimNode node)
    {
        node.Crash();
        _crashes++;
        Events.After(1_000 + Random.NextInt64(Parameters.RestartDelayMaxMicros), () =>
        {
            if (_faultPhase && !node.IsRunning && !node.IsRemoved)
            {
                node.Start();
            }
        });
    }

    internal void OnLeaderElected(SimNode leader)
    {
        if (!_faultPhase || Random.NextDouble() >= Parameters.LeaderCrashProbability)
        {
            return;
        }
        Events.After(Random.NextInt64(3 * Parameters.TickMicros), () =>
        {
            if (_faultPhase && leader.IsRunning)
            {
                Trace.Add($"n{leader.Id} crashes soon after its election");
                CrashAndRestartLater(leader);
            }
        });
    }

    private void Partition()
    {
        var members = Members();
        if (_partitioned || members.Count < 2)
        {
            return;
        }
        var ids = members.Select(n => n.Id).OrderBy(_ => Random.Next()).ToList();
        var leader = CurrentLeader();
        switch (Random.Next(4))
        {
            case 0:
                {
                    var cut = 1 + Random.Next(ids.Count - 1);
                    Network.Split(ids[..cut], ids[cut..]);
                    break;
                }
            case 1 when leader is not null:
                Network.Split([leader.Id], ids.Where(id => id != leader.Id).ToList());
                break;
            case 2:
                {
                    var lonely = ids[0];
                    var others = ids[1..];
                    if (Random.Next(2) == 0)
                    {
                        Network.CutOneWay([lonely], others);
                    }
                    else
                    {
                        Network.CutOneWay(others, [lonely]);
                    }
                    break;
                }
            default:
                {
                    if (ids.Count < 3)
                    {
                        Network.Split(ids[..1], ids[1..]);
                        break;
                    }
                    // A bridge: two sides that only the bridge member can talk to.
                    var rest = ids[1..];
                    var cut = 1 + Random.Next(rest.Count - 1);
                    Network.Split(rest[..cut], rest[cut..]);
                    break;
                }
        }
        _partitioned = true;
        _partitions++;
        Trace.Add($"partition: {Network.Describe()}");
        Events.After(50_000 + Random.NextInt64(Parameters.PartitionDurationMaxMicros), () =>
        {
            Network.Heal();
            _partitioned = false;
            Trace.Add("partition healed");
        });
    }

    private void ChangeMembership()
    {
        var leader = CurrentLeader();
        if (leader?.Raft is not { } raft)
        {
            return;
        }
        var config = raft.Config;
        var votersMin = Math.Min(3, Parameters.Nodes);
        ConfigChange change;
        SimNode? joiner = null;
        var learner = config.Learners.FirstOrDefault();
        if (learner != 0)
        {
            if (raft.Progress.TryGetValue(learner, out var progress) && progress.Match + 20 >= raft.Log.LastIndex)
            {
                change = new ConfigChange(ConfigChangeType.AddVoter, learner, default);
            }
            else
            {
                return;
            }
        }
        else if (config.Voters.Count > votersMin && Random.Next(2) == 0)
        {
            var victim = Random.Next(5) == 0 ? leader.Id : config.Voters[Random.Next(config.Voters.Count)];
            change = new ConfigChange(ConfigChangeType.RemoveNode, victim, default);
        }
        else if (Members().Count < Parameters.Nodes + 2)
        {
            change = new ConfigChange(ConfigChangeType.AddLearner, _nextNodeId, default);
        }
        else
        {
            return;
        }
        if (!leader.ProposeConfigChange(change))
        {
            return;
        }
        _configChanges++;
        Trace.Add($"membership: n{leader.Id} proposes {change.Type} n{change.NodeId}");
        if (change.Type == ConfigChangeType.AddLearner)
        {
            joiner = AddNode(_nextNodeId++, new MemoryStorage());
            Trace.Add($"n{joiner.Id} joins empty");
        }
    }

    private void TransferLeadership()
    {
        var leader = CurrentLeader();
        if (leader?.Raft is not { } raft)
        {
            return;
        }
        var others = raft.Config.Voters.Where(v => v != leader.Id).ToList();
        if (others.Count == 0)
        {
            return;
        }
        var target = others[Random.Next(others.Count)];
        Trace.Add($"transfer: n{leader.Id} hands leadership to n{target}");
        leader.TransferLeadership(target);
    }
}
