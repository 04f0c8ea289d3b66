namespace Parley.Raft;

/// <summary>
/// Where <see cref="MemoryStorage"/> keeps its entries' payloads: copied end to end into large chunks instead of one
/// array per entry. A log holds tens of megabytes of entries between snapshots, long enough for each payload to be
/// promoted through the runtime's young generations (copied twice and traced on every young collection) before a
/// snapshot lets it go. A chunk is allocated once among the large objects, which are never moved, and a payload copied
/// into it leaves its own array to die young. Chunks are dropped whole once compaction passes every entry in them.
/// </summary>
internal sealed class EntryArena
{
    /// <summary>Large enough to land among the large objects (over 85,000 bytes), small enough to free a log in steps.</summary>
    public const int ChunkBytes = 1 << 20;

    /// <summary>Payloads above this keep their own array: it is a large object already, or close to one.</summary>
    public const int PackedBytesMax = 64 << 10;

    private byte[] _chunk = [];
    private int _used;

    public Entry Pack(Entry entry)
    {
        var data = entry.Data;
        if (data.IsEmpty || data.Length > PackedBytesMax)
        {
            return entry;
        }
        if (_chunk.Length - _used < data.Length)
        {
            _chunk = GC.AllocateUninitializedArray<byte>(ChunkBytes);
            _used = 0;
        }
        var packed = _chunk.AsMemory(_used, data.Length);
        data.Span.CopyTo(packed.Span);
        _used += data.Length;
        return entry with { Data = packed };
    }
}
