using System.Runtime.InteropServices;
using Parley.Raft;

namespace Parley.Raft.Tests;

/// <summary>
/// The in-memory log keeps its entries' payloads packed into shared chunks (see EntryArena): what it returns must be
/// exactly what was appended, whatever the caller does with its own arrays afterwards, across chunk boundaries,
/// truncation and compaction.
/// </summary>
public sealed class MemoryStorageTests
{
    [Fact]
    public void Payloads_AreCopied_SoTheCallersArraysMayChangeOrDie()
    {
        var storage = new MemoryStorage();
        var payloads = Enumerable.Range(1, 3).Select(seed => Payload(seed)).ToArray();
        storage.Append(payloads.Select((data, i) => new Entry(1, (ulong)i + 1, EntryType.Normal, data)).ToList());
        foreach (var payload in payloads)
        {
            Array.Fill(payload, (byte)0xEE);
        }

        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal(Payload(i), storage.EntryAt((ulong)i).Data.ToArray());
        }
    }

    [Fact]
    public void SmallPayloads_ShareAChunk_ALargeOneKeepsItsOwnArray()
    {
        var storage = new MemoryStorage();
        var large = new byte[100_000];
        storage.Append([
            new Entry(1, 1, EntryType.Normal, Payload(1)),
            new Entry(1, 2, EntryType.Normal, Payload(2)),
            new Entry(1, 3, EntryType.Normal, large),
            new Entry(1, 4, EntryType.Normal, default),
        ]);

        var first = ArrayOf(storage.EntryAt(1));
        Assert.Same(first, ArrayOf(storage.EntryAt(2)));
        Assert.True(first.Length > 85_000, "a chunk is a large object, which the runtime does not move");
        Assert.Same(large, ArrayOf(storage.EntryAt(3)));
        Assert.True(storage.EntryAt(4).Data.IsEmpty);
    }

    [Fact]
    public void EntriesAcrossManyChunks_TruncatedAndCompacted_ReadBackExactly()
    {
        var storage = new MemoryStorage();
        var expected = new Dictionary<ulong, byte[]>();
        // About 3.5 chunks of 1 MiB in entries of uneven sizes, so that entries end near and at chunk boundaries.
        ulong index = 0;
        for (var batch = 0; batch < 60; batch++)
        {
            var entries = new List<Entry>();
            for (var i = 0; i < 20; i++)
            {
                index++;
                var data = Payload((int)index, size: 1_000 + (int)(index * 7_919 % 5_000));
                expected[index] = data;
                entries.Add(new Entry(1, index, EntryType.Normal, data));
            }
            storage.Append(entries);
        }
        // A new leader overwrites the last 30 entries with 10 of a later term.
        var conflictFrom = index - 29;
        var overwrite = new List<Entry>();
        for (var i = conflictFrom; i < conflictFrom + 10; i++)
        {
            expected[i] = Payload((int)i + 1_000_000, size: 3_000);
            overwrite.Add(new Entry(2, i, EntryType.Normal, expected[i]));
        }
        storage.Append(overwrite);
        storage.Compact(700);

        Assert.Equal(701UL, storage.FirstIndex);
        Assert.Equal(conflictFrom + 9, storage.LastIndex);
        var read = new List<Entry>();
        storage.CopyEntries(storage.FirstIndex, storage.LastIndex + 1, long.MaxValue, read);
        Assert.Equal((int)(storage.LastIndex - 700), read.Count);
        foreach (var entry in read)
        {
            Assert.Equal(expected[entry.Index], entry.Data.ToArray());
            Assert.Equal(entry.Index >= conflictFrom ? 2UL : 1UL, entry.Term);
        }
    }

    private static byte[] ArrayOf(Entry entry)
    {
        Assert.True(MemoryMarshal.TryGetArray(entry.Data, out var segment));
        return segment.Array!;
    }

    private static byte[] Payload(int seed) => Payload(seed, size: 300);

    private static byte[] Payload(int seed, int size)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
