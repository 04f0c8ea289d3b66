using static Parley.Mvcc.Tests.Kit;

namespace Parley.Mvcc.Tests;

/// <summary>
/// A frozen snapshot is written later (on another thread, while the store goes on): whatever the store does after the
/// capture, the frozen bytes are the ones the store would have written at the capture.
/// </summary>
public class FrozenSnapshotTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void BytesAreThoseOfTheCapture_WhateverTheStoreDoesAfterwards(int seed)
    {
        var random = new Random(seed);
        var store = new MvccStore();
        store.Grant(7);
        for (int i = 0; i < 2000; i++)
        {
            RandomWrite(random, store);
        }
        byte[] atCapture = store.Snapshot();
        FrozenSnapshot frozen = store.FreezeSnapshot();

        // Appends into spare array capacity, new keys (index splits), deletes, leases, and a compaction that rewrites
        // every key's older versions and the change log.
        for (int i = 0; i < 3000; i++)
        {
            RandomWrite(random, store);
            if (i == 1500)
            {
                Ok(store.Compact(new CompactionRequest { Revision = store.Revision - 10 }));
            }
        }
        store.Grant(8);
        Ok(store.LeaseRevoke(new LeaseRevokeRequest { ID = 7 }));

        Assert.Equal(atCapture, frozen.ToArray());
        Assert.Equal(atCapture, frozen.ToArray()); // written twice, same bytes
        Assert.Equal(atCapture.Length, frozen.Length);
        MvccStore restored = Ok(MvccStore.Restore(frozen.ToArray()));
        Assert.Equal(frozen.Revision, restored.Revision);
        Assert.Equal(atCapture, restored.Snapshot());
        Assert.NotEqual(atCapture, store.Snapshot());
        // and the length announced for a capture after the compaction and the revoke is what it writes, too
        FrozenSnapshot later = store.FreezeSnapshot();
        Assert.Equal(store.Snapshot().Length, later.Length);
        Assert.Equal(later.ToArray().Length, later.Length);
    }

    [Fact]
    public void CompactionThatRewritesCapturedChanges_LeavesTheCaptureAlone()
    {
        // The frozen snapshot shares the change log's chunks. Compacting at a revision that put one key and deleted
        // another drops the delete's entry and moves the put's into its slot: inside the captured range, in a chunk
        // (4,096 entries) that is neither the first nor the last.
        var store = new MvccStore();
        for (int i = 0; i < 6000; i++)
        {
            store.Put($"k{i % 500}", $"v{i}");
        }
        store.Put("b", "1");
        Assert.True(store.Apply(WriteCommand.Txn(new TxnRequest { Success = [PutOp("a", "1"), DeleteOp("b")] })).IsSuccess);
        long mixed = store.Revision;
        for (int i = 0; i < 3000; i++)
        {
            store.Put($"k{i % 500}", $"w{i}");
        }
        byte[] atCapture = store.Snapshot();
        FrozenSnapshot frozen = store.FreezeSnapshot();

        Ok(store.Compact(new CompactionRequest { Revision = mixed }));
        for (int i = 0; i < 5000; i++)
        {
            store.Put($"k{i % 700}", $"x{i}");
        }

        Assert.Equal(atCapture, frozen.ToArray());
        Assert.NotEqual(atCapture, store.Snapshot());
        Assert.Null(store.Get("b", mixed));
    }

    [Fact]
    public void EmptyStore_FreezesLikeItSnapshots()
    {
        var store = new MvccStore();
        Assert.Equal(store.Snapshot(), store.FreezeSnapshot().ToArray());
        Assert.Equal(0, store.FreezeSnapshot().RecordCount);
    }

    [Fact]
    public void ValuesLargerThanTheOutputsSpans_AreWrittenInPieces()
    {
        var store = new MvccStore();
        store.Put("big", new string('b', 3 << 20));
        store.Put("small", "s");
        var pieces = new SmallSpanWriter(1000);
        store.FreezeSnapshot().WriteTo(pieces);
        Assert.Equal(store.Snapshot(), pieces.Written.ToArray());
        Assert.Equal(pieces.Written.Count, store.FreezeSnapshot().Length);
    }

    /// <summary>Hands out spans of at most a fixed size, whatever the hint (as a buffered file writer may).</summary>
    private sealed class SmallSpanWriter(int spanBytes) : System.Buffers.IBufferWriter<byte>
    {
        private readonly byte[] _span = new byte[spanBytes];

        public List<byte> Written { get; } = [];

        public void Advance(int count) => Written.AddRange(_span.AsSpan(0, count).ToArray());

        public Memory<byte> GetMemory(int sizeHint = 0) => _span;

        public Span<byte> GetSpan(int sizeHint = 0) => _span;
    }

    private static void RandomWrite(Random random, MvccStore store)
    {
        string key = "k" + random.Next(300).ToString("D3");
        switch (random.Next(10))
        {
            case 0:
                store.Delete(key);
                break;
            case 1:
                store.Put(key, new string('v', random.Next(1, 50)), lease: 7);
                break;
            default:
                store.Put(key, new string('w', random.Next(1, 50)));
                break;
        }
    }
}
