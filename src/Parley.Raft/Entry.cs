namespace Parley.Raft;

/// <summary>What a log entry carries: an application command or a membership change.</summary>
public enum EntryType : byte
{
    Normal = 0,
    ConfigChange = 1,
}

/// <summary>One Raft log entry. <see cref="Data"/> is opaque to the core (empty for the leader's no-op).</summary>
public readonly record struct Entry(ulong Term, ulong Index, EntryType Type, ReadOnlyMemory<byte> Data)
{
    /// <summary>Fixed overhead counted per entry in byte bounds, besides its payload.</summary>
    public const int OverheadBytes = 24;

    public long SizeBytes => Data.Length + OverheadBytes;

    public override string ToString() => $"{Index}/{Term}{(Type == EntryType.ConfigChange ? "c" : "")}";
}
