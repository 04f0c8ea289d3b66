namespace Parley.Raft;

/// <summary>
/// How a new cluster starts: every initial member holds the same committed log of one AddVoter entry per member
/// (term 1). Members that join later start empty and learn the membership from the log or a snapshot.
/// </summary>
public static class Bootstrap
{
    public static Entry[] InitialEntries(IReadOnlyList<ulong> voters, Func<ulong, byte[]>? context = null)
    {
        var entries = new Entry[voters.Count];
        for (var i = 0; i < voters.Count; i++)
        {
            var change = new ConfigChange(ConfigChangeType.AddVoter, voters[i], context?.Invoke(voters[i]) ?? ReadOnlyMemory<byte>.Empty);
            entries[i] = new Entry(1, (ulong)i + 1, EntryType.ConfigChange, change.Encode());
        }
        return entries;
    }

    public static HardState InitialHardState(IReadOnlyList<ulong> voters) => new(1, 0, (ulong)voters.Count);

    /// <summary>Fills an empty storage with the bootstrap log of an initial member.</summary>
    public static void InitialMember(MemoryStorage storage, IReadOnlyList<ulong> voters)
    {
        Invariant.Check(storage.LastIndex == 0, "bootstrapping a non-empty storage");
        storage.Append(InitialEntries(voters));
        storage.SetHardState(InitialHardState(voters));
    }
}
