namespace Parley.Simulation.NodeMode;

/// <summary>Everything a seed decides about one node-level run: cluster shape, fault rates, storage tuning and workload.</summary>
public sealed record NodeSimulationParameters
{
    public required ulong Seed { get; init; }
    public required int Nodes { get; init; }
    public NodeSimulationBug Bug { get; init; }

    public long TickMicros { get; init; } = 10_000;
    public int ElectionTimeoutTicks { get; init; } = 10;
    public int HeartbeatIntervalTicks { get; init; } = 1;
    /// <summary>The node's own request deadline (etcd: 5 s + 2 election timeouts; shorter here).</summary>
    public int RequestTimeoutTicks { get; init; } = 70;

    public long NetworkLatencyMinMicros { get; init; } = 200;
    public long NetworkLatencyMaxMicros { get; init; } = 5_000;
    public double DropProbability { get; init; }
    public double DuplicateProbability { get; init; }
    /// <summary>Delay between an input reaching a member and its next turn (inputs arriving meanwhile share the turn and its fsync).</summary>
    public long TurnDelayMinMicros { get; init; } = 50;
    public long TurnDelayMaxMicros { get; init; } = 1_000;

    /// <summary>Mean time between crashes of some member during the fault phase (0: no crashes).</summary>
    public long CrashIntervalMicros { get; init; }
    public long RestartDelayMaxMicros { get; init; } = 1_000_000;
    /// <summary>Chance that a restarting member finds one bit of its stored data flipped.</summary>
    public double FlipProbability { get; init; }
    public long PartitionIntervalMicros { get; init; }
    public long PartitionDurationMaxMicros { get; init; } = 2_000_000;

    public long SegmentSizeBytes { get; init; } = 64 * 1024;
    public ulong SnapshotCountEntries { get; init; } = 100;
    public ulong SnapshotCatchUpEntries { get; init; } = 20;

    public int Clients { get; init; } = 5;
    public int Keys { get; init; } = 5;
    public double ReadFraction { get; init; } = 0.4;
    public int ValueBytesMax { get; init; } = 64;
    public long ClientTimeoutMicros { get; init; } = 1_000_000;

    /// <summary>Mean time between the operator's membership requests during the fault phase (0: none).</summary>
    public long MembershipIntervalMicros { get; init; }
    /// <summary>Mean time between leadership transfers (MoveLeader) during the fault phase (0: none).</summary>
    public long TransferIntervalMicros { get; init; }
    /// <summary>Fresh members the operator may start (each with an empty disk and a new id) in one run.</summary>
    public int JoinersMax { get; init; } = 6;

    public long FaultPhaseMicros { get; init; } = 5_000_000;
    /// <summary>Members sync their WAL off the node loop (<c>NodeOptions.SyncOffLoop</c>): a batch is written this long
    /// (at most) after it is taken, and the member hears of it up to as long again after that.</summary>
    public bool SyncOffLoop { get; init; }
    public long SyncDelayMaxMicros { get; init; } = 1_000;

    /// <summary>Ticks of history the leader keeps when it compacts on its own (<c>NodeOptions.AutoCompactionMode</c>
    /// periodic); 0: off.</summary>
    public long AutoCompactionTicks { get; init; }

    /// <summary>After healing, the cluster must converge within this much virtual time.</summary>
    public long LivenessBudgetMicros { get; init; } = 20_000_000;

    /// <summary>Draws a run's parameters from its seed; <paramref name="nodes"/> fixes the size when given.</summary>
    public static NodeSimulationParameters FromSeed(ulong seed, int? nodes, NodeSimulationBug bug)
    {
        var random = new Random(unchecked((int)(seed * 0x9E3779B97F4A7C15UL >> 17) ^ (int)seed ^ 0x40de));
        int[] sizes = [1, 3, 3, 3, 5, 5, 5];
        var size = nodes ?? sizes[random.Next(sizes.Length)];
        var harsh = random.NextDouble() < 0.5;
        return new NodeSimulationParameters
        {
            Seed = seed,
            Nodes = size,
            Bug = bug,
            ElectionTimeoutTicks = 8 + random.Next(8),
            HeartbeatIntervalTicks = 1 + random.Next(2),
            RequestTimeoutTicks = 40 + random.Next(60),
            NetworkLatencyMinMicros = 100 + random.Next(500),
            NetworkLatencyMaxMicros = 1_000 + random.Next(harsh ? 30_000 : 8_000),
            DropProbability = harsh ? random.NextDouble() * 0.1 : random.NextDouble() * 0.02,
            DuplicateProbability = random.NextDouble() * 0.03,
            TurnDelayMinMicros = 30 + random.Next(200),
            TurnDelayMaxMicros = 300 + random.Next(harsh ? 5_000 : 1_500),
            CrashIntervalMicros = random.NextDouble() < 0.9 ? 200_000 + random.Next(harsh ? 800_000 : 2_000_000) : 0,
            RestartDelayMaxMicros = 50_000 + random.Next(1_500_000),
            FlipProbability = random.NextDouble() < 0.8 ? 0.2 + random.NextDouble() * 0.6 : 0,
            PartitionIntervalMicros = random.NextDouble() < 0.7 ? 500_000 + random.Next(2_500_000) : 0,
            PartitionDurationMaxMicros = 200_000 + random.Next(2_000_000),
            SegmentSizeBytes = random.NextDouble() < 0.7 ? 64 * 1024 : 256 * 1024,
            SnapshotCountEntries = (ulong)(10 + random.Next(300)),
            SnapshotCatchUpEntries = (ulong)(1 + random.Next(60)),
            Clients = 3 + random.Next(10),
            Keys = 1 + random.Next(8),
            ReadFraction = 0.2 + random.NextDouble() * 0.5,
            ValueBytesMax = 8 + random.Next(random.NextDouble() < 0.2 ? 1_500 : 120),
            ClientTimeoutMicros = 500_000 + random.Next(1_500_000),
            FaultPhaseMicros = 3_000_000 + random.Next(5_000_000),
            // Drawn last, so the draws above stay what they were before membership changes existed.
            MembershipIntervalMicros = random.NextDouble() < 0.8 ? 150_000 + random.Next(900_000) : 0,
            TransferIntervalMicros = random.NextDouble() < 0.6 ? 300_000 + random.Next(1_500_000) : 0,
            SyncOffLoop = random.NextDouble() < 0.5,
            SyncDelayMaxMicros = 50 + random.Next(harsh ? 5_000 : 1_500),
            AutoCompactionTicks = random.NextDouble() < 0.3 ? 2 + random.Next(60) : 0,
        };
    }

    public override string ToString() =>
        $"mode=node nodes={Nodes} bug={NodeSimulationBugNames.Name(Bug)} election={ElectionTimeoutTicks} heartbeat={HeartbeatIntervalTicks} " +
        $"request-timeout={RequestTimeoutTicks} latency={NetworkLatencyMinMicros}-{NetworkLatencyMaxMicros}us drop={DropProbability:F3} " +
        $"dup={DuplicateProbability:F3} turn={TurnDelayMinMicros}-{TurnDelayMaxMicros}us crash-every={CrashIntervalMicros}us " +
        $"restart-max={RestartDelayMaxMicros}us flip={FlipProbability:F2} partition-every={PartitionIntervalMicros}us " +
        $"segment={SegmentSizeBytes} snapshot-every={SnapshotCountEntries} catch-up={SnapshotCatchUpEntries} clients={Clients} " +
        $"keys={Keys} reads={ReadFraction:F2} value-max={ValueBytesMax} membership-every={MembershipIntervalMicros}us " +
        $"transfer-every={TransferIntervalMicros}us sync-off-loop={(SyncOffLoop ? $"{SyncDelayMaxMicros}us" : "no")} " +
        $"auto-compaction={(AutoCompactionTicks > 0 ? $"{AutoCompactionTicks}ticks" : "no")} faults={FaultPhaseMicros}us";
}
