using Parley.Raft;

namespace Parley.Raft.Tests.Harness;

/// <summary>
/// One member as a well-behaved host drives it: a <see cref="RaftNode"/> over a <see cref="MemoryStorage"/> that
/// holds exactly what was persisted, and a record of what the state machine applied.
/// </summary>
internal sealed class TestNode
{
    private readonly int _seed;

    public TestNode(RaftOptions options, MemoryStorage storage, int seed)
    {
        Options = options;
        Storage = storage;
        _seed = seed;
        Raft = new RaftNode(options, storage, new Random(seed));
    }

    public ulong Id => Options.Id;

    public RaftOptions Options { get; }

    /// <summary>The durable part: survives <see cref="Restart"/>.</summary>
    public MemoryStorage Storage { get; }

    public RaftNode Raft { get; private set; }

    /// <summary>Entries handed to the state machine, in order (snapshots reset it to their index).</summary>
    public List<Entry> Applied { get; } = [];

    /// <summary>Index of the last snapshot the state machine restored, or 0.</summary>
    public ulong RestoredSnapshotIndex { get; private set; }

    public List<ReadState> ReadStates { get; } = [];

    /// <summary>Every Ready this member produced, in order.</summary>
    public List<Ready> Readies { get; } = [];

    public ulong AppliedIndex => Applied.Count > 0 ? Applied[^1].Index : RestoredSnapshotIndex;

    /// <summary>Simulates a crash and restart: whatever was not persisted is lost, the state machine restarts
    /// from the storage's snapshot and committed entries after it are applied again.</summary>
    public void Restart()
    {
        var snapshotIndex = Storage.Snapshot.Metadata.Index;
        Applied.RemoveAll(e => e.Index > snapshotIndex);
        ReadStates.Clear();
        Raft = new RaftNode(Options, Storage, new Random(_seed + 7919), snapshotIndex);
    }

    /// <summary>Persists <paramref name="ready"/> (snapshot, entries, then hard state).</summary>
    public void Persist(Ready ready)
    {
        if (ready.Snapshot is { } snapshot)
        {
            Storage.ApplySnapshot(snapshot);
        }
        Storage.Append(ready.Entries);
        if (ready.HardState is { } hardState)
        {
            Storage.SetHardState(hardState);
        }
    }

    /// <summary>Applies the snapshot and committed entries of <paramref name="ready"/>, then advances the core.</summary>
    public void ApplyAndAdvance(Ready ready)
    {
        if (ready.Snapshot is { } snapshot)
        {
            Applied.Clear();
            RestoredSnapshotIndex = snapshot.Metadata.Index;
        }
        foreach (var entry in ready.CommittedEntries)
        {
            Assert.True(entry.Index == AppliedIndex + 1, $"member {Id} applies {entry.Index} after {AppliedIndex}");
            Applied.Add(entry);
            if (entry.Type == EntryType.ConfigChange)
            {
                Raft.ApplyConfigChange(ConfigChange.Decode(entry.Data.Span));
            }
        }
        ReadStates.AddRange(ready.ReadStates);
        Raft.Advance(ready);
    }

    /// <summary>Takes a snapshot at the applied index and compacts the log up to <paramref name="compactIndex"/>.</summary>
    public void Snapshot(ulong compactIndex)
    {
        var index = AppliedIndex;
        Assert.True(Storage.TryGetTerm(index, out var term), $"member {Id} has no term for applied index {index}");
        var metadata = new SnapshotMetadata(index, term, Raft.Config);
        Storage.CreateSnapshot(new Snapshot(metadata, new byte[] { 0x53 }), compactIndex);
    }

    /// <summary>The terms of the whole log (durable and unstable), from the first retained index.</summary>
    public List<ulong> LogTerms()
    {
        var terms = new List<ulong>();
        for (var index = Raft.Log.FirstIndex; index <= Raft.Log.LastIndex; index++)
        {
            terms.Add(Raft.Log.TermOrZero(index));
        }
        return terms;
    }
}
