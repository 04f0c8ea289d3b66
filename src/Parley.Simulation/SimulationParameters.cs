namespace Parley.Simulation;

/// <summary>Everything a seed decides about one run: cluster shape, fault rates, workload and bounds.</summary>
public sealed record SimulationParameters
{
    public required ulong Seed { get; init; }
    public required int Nodes { get; init; }
    public SimulationBug Bug { get; init; }

    public long TickMicros { get; init; } = 10_000;
    public int ElectionTimeoutTicks { get; init; } = 10;
    public int HeartbeatIntervalTicks { get; init; } = 2;
    public bool PreVote { get; init; } = true;
    public bool CheckQuorum { get; init; } = true;
    public int EntriesPerMessageMax { get; init; } = 64;
    public int InflightMessagesMax { get; init; } = 8;

    public long NetworkLatencyMinMicros { get; init; } = 200;
    public long NetworkLatencyMaxMicros { get; init; } = 5_000;
    public double DropProbability { get; init; }
    public double DuplicateProbability { get; init; }
    public long DiskLatencyMinMicros { get; init; } = 100;
    public long DiskLatencyMaxMicros { get; init; } = 2_000;

    /// <summary>Mean time between crashes of some member during the fault phase (0: no crashes).</summary>
    public long CrashIntervalMicros { get; init; }
    public long RestartDelayMaxMicros { get; init; } = 2_000_000;
    /// <summary>Chance that a newly elected leader crashes within a few ticks (before its first entries spread):
    /// the schedule behind the paper's Figure 8.</summary>
    public double LeaderCrashProbability { get; init; }
    /// <summary>Chance that a leader crashes the moment its commit index first advances in its term.</summary>
    public double LeaderCrashOnCommitProbability { get; init; }
    /// <summary>Mean time between partitions (0: none).</summary>
    public long PartitionIntervalMicros { get; init; }
    public long PartitionDurationMaxMicros { get; init; } = 3_000_000;
    public long MembershipChangeIntervalMicros { get; init; }
    public long TransferIntervalMicros { get; init; }

    public int SnapshotIntervalEntries { get; init; } = 200;
    public int SnapshotMarginEntries { get; init; } = 20;

    public int Clients { get; init; } = 5;
    public int Keys { get; init; } = 5;
    public double ReadFraction { get; init; } = 0.4;
    public int OperationsMax { get; init; } = 3_000;
    public long ClientTimeoutMicros { get; init; } = 1_000_000;

    public long FaultPhaseMicros { get; init; } = 10_000_000;
    /// <summary>After healing, the cluster must converge within this much virtual time.</summary>
    public long LivenessBudgetMicros { get; init; } = 20_000_000;

    /// <summary>Draws a run's parameters from its seed; <paramref name="nodes"/> fixes the size when given.</summary>
    public static SimulationParameters FromSeed(ulong seed, int? nodes, SimulationBug bug)
    {
        var random = new Random(unchecked((int)(seed * 2654435761UL ^ (seed >> 32))));
        int[] sizes = [1, 2, 3, 3, 3, 4, 5, 5, 5, 7];
        var size = nodes ?? sizes[random.Next(sizes.Length)];
        var harsh = random.NextDouble() < 0.5;
        var parameters = new SimulationParameters
        {
            Seed = seed,
            Nodes = size,
            Bug = bug,
            ElectionTimeoutTicks = 8 + random.Next(8),
            HeartbeatIntervalTicks = 1 + random.Next(3),
            PreVote = random.NextDouble() < 0.8,
            CheckQuorum = random.NextDouble() < 0.8,
            EntriesPerMessageMax = random.NextDouble() < 0.3 ? 1 + random.Next(3) : 1 + random.Next(128),
            InflightMessagesMax = 1 + random.Next(16),
            NetworkLatencyMinMicros = 100 + random.Next(500),
            NetworkLatencyMaxMicros = 1_000 + random.Next(harsh ? 60_000 : 10_000),
            DropProbability = harsh ? random.NextDouble() * 0.15 : random.NextDouble() * 0.02,
            DuplicateProbability = random.NextDouble() * 0.05,
            DiskLatencyMinMicros = 50 + random.Next(300),
            DiskLatencyMaxMicros = 500 + random.Next(harsh ? 20_000 : 3_000),
            CrashIntervalMicros = random.NextDouble() < 0.8 ? 300_000 + random.Next(harsh ? 1_500_000 : 4_000_000) : 0,
            RestartDelayMaxMicros = 100_000 + random.Next(3_000_000),
            LeaderCrashProbability = random.NextDouble() < 0.5 ? 0 : 0.2 + random.NextDouble() * 0.7,
            PartitionIntervalMicros = random.NextDouble() < 0.8 ? 500_000 + random.Next(3_000_000) : 0,
            PartitionDurationMaxMicros = 200_000 + random.Next(3_000_000),
            MembershipChangeIntervalMicros = size >= 3 && random.NextDouble() < 0.4 ? 1_000_000 + random.Next(3_000_000) : 0,
            TransferIntervalMicros = size >= 2 && random.NextDouble() < 0.5 ? 500_000 + random.Next(3_000_000) : 0,
            SnapshotIntervalEntries = 20 + random.Next(400),
            SnapshotMarginEntries = random.Next(50),
            Clients = 8 + random.Next(17),
            Keys = 1 + random.Next(8),
            ReadFraction = 0.2 + random.NextDouble() * 0.5,
            OperationsMax = 3_000 + random.Next(4_000),
            ClientTimeoutMicros = 500_000 + random.Next(1_500_000),
            FaultPhaseMicros = 6_000_000 + random.Next(8_000_000),
        };
        if (random.NextDouble() < 0.25)
        {
            // Leader churn: leaders die right after election while their one-entry appends are on the wire.
            // This is the schedule of the paper's Figure 8, which plain random faults almost never produce.
            parameters = parameters with
            {
                EntriesPerMessageMax = 1,
                LeaderCrashProbability = 0.5 + random.NextDouble() * 0.4,
                LeaderCrashOnCommitProbability = 0.3 + random.NextDouble() * 0.5,
                RestartDelayMaxMicros = 50_000 + random.Next(400_000),
                DropProbability = random.NextDouble() * 0.02,
                Clients = 2 + random.Next(4),
            };
        }
        return parameters;
    }

    public override string ToString() =>
        $"nodes={Nodes} bug={SimulationBugNames.Name(Bug)} election={ElectionTimeoutTicks} heartbeat={HeartbeatIntervalTicks} " +
        $"prevote={PreVote} checkquorum={CheckQuorum} entries/msg={EntriesPerMessageMax} inflight={InflightMessagesMax} " +
        $"latency={NetworkLatencyMinMicros}-{NetworkLatencyMaxMicros}us drop={DropProbability:F3} dup={DuplicateProbability:F3} " +
        $"disk={DiskLatencyMinMicros}-{DiskLatencyMaxMicros}us crash-every={CrashIntervalMicros}us leader-crash={LeaderCrashProbability:F2}/{LeaderCrashOnCommitProbability:F2} partition-every={PartitionIntervalMicros}us " +
        $"membership-every={MembershipChangeIntervalMicros}us transfer-every={TransferIntervalMicros}us snapshot-every={SnapshotIntervalEntries} " +
        $"clients={Clients} keys={Keys} reads={ReadFraction:F2} ops={OperationsMax} faults={FaultPhaseMicros}us";
}
