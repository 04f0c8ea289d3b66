using Parley.Raft;
using Parley.Storage;
using static Parley.Storage.Tests.StorageTestKit;

namespace Parley.Storage.Tests;

/// <summary>Seeded swarm over the simulated disk: power cuts at any I/O step, torn writes, restarts.</summary>
public class CrashPropertyTests
{
    private static Entry Expected(ulong index) => EntryAt(index, dataBytes: 10 + (int)(index * 7919 % 1500));

    private static Snapshot SnapshotAt(ulong index) =>
        new(new SnapshotMetadata(index, 1, new ConfigState([1], [])), BitConverter.GetBytes(index));

    [Fact]
    public void PowerCuts_AtAnyStep_NeverLoseASyncedEntry_NorInventOne()
    {
        var repairs = 0;
        var cuts = 0;
        for (var seed = 0; seed < 100; seed++)
        {
            var random = new Random(seed);
            var fileSystem = new SimulatedFileSystem(new Random(seed + 1_000_000)) { TearProbability = 0.7 };
            var powerCut = new PowerCutFileSystem(fileSystem);
            ulong durable = 0;
            ulong written = 0;
            for (var life = 0; life < 6; life++)
            {
                powerCut.OperationsBeforeCut = -1;
                using (var storage = Open(fileSystem))
                {
                    var recovered = storage.Recovered;
                    repairs += recovered.Repair is null ? 0 : 1;
                    Assert.True(recovered.LastIndex >= durable, $"seed {seed} life {life}: synced up to {durable}, recovered {recovered.LastIndex}");
                    Assert.True(recovered.LastIndex <= written, $"seed {seed} life {life}: recovered {recovered.LastIndex} > written {written}");
                    if (!recovered.Snapshot.IsEmpty)
                    {
                        Assert.Equal(SnapshotAt(recovered.Snapshot.Metadata.Index).Data.ToArray(), recovered.Snapshot.Data.ToArray());
                    }
                    var first = recovered.Snapshot.Metadata.Index + 1;
                    AssertSameEntries(Enumerable.Range(0, recovered.Entries.Count).Select(i => Expected(first + (ulong)i)).ToList(), recovered.Entries);
                    durable = recovered.LastIndex;
                    written = durable;
                }
                var cut = random.Next(5, 400);
                powerCut.OperationsBeforeCut = cut;
                try
                {
                    using var storage = Open(powerCut);
                    var lastSnapshot = storage.Recovered.Snapshot.Metadata.Index;
                    while (true)
                    {
                        var count = (ulong)random.Next(1, 40);
                        var batch = new List<Entry>();
                        for (var index = written + 1; index <= written + count; index++)
                        {
                            batch.Add(Expected(index));
                        }
                        written += count;
                        storage.Append(new HardState(1, 1, durable), batch);
                        storage.Sync();
                        durable = written;
                        if (random.Next(8) == 0 && durable > lastSnapshot)
                        {
                            storage.SaveSnapshot(SnapshotAt(durable));
                            lastSnapshot = durable;
                        }
                    }
                }
                catch (PowerCutException)
                {
                    cuts++;
                }
                fileSystem.Crash();
            }
        }
        Assert.Equal(100 * 6, cuts);
        Assert.True(repairs > 20, $"only {repairs} torn tails repaired: the tearing is not being exercised");
    }
}
