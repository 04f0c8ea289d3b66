namespace Parley.Mvcc.Tests;

/// <summary>
/// The key index B+tree against a model (a SortedDictionary ordered by plain byte comparison) after random
/// operations, with key sets chosen to break head-based comparison if it were wrong: keys of every length around
/// the 7-byte head, zero bytes (a head pads with zeros), 0xFF bytes, the empty key, long shared prefixes. Small
/// node capacities make deep trees and many splits out of a few thousand keys. Seeds are fixed.
/// </summary>
public class KeyIndexTests
{
    public enum KeyDraw
    {
        /// <summary>Bytes from {00, 01, 7F, 80, FE, FF}, 0..18 long: many prefixes of each other, zero runs, ties.</summary>
        EdgeBytes,

        /// <summary>"/registry/&lt;kind&gt;/&lt;namespace&gt;/&lt;name&gt;": keys share 10-25 bytes.</summary>
        SharedPrefix,

        /// <summary>`parley bench` keys: 'k' filler then 5 digits, 16 bytes.</summary>
        Bench,

        /// <summary>Uniform random bytes, 0..24 long.</summary>
        Random,
    }

    private static readonly Comparer<byte[]> Ordinal = Comparer<byte[]>.Create((left, right) => left.AsSpan().SequenceCompareTo(right));

    [Theory]
    [InlineData(4, KeyDraw.EdgeBytes, 1)]
    [InlineData(5, KeyDraw.EdgeBytes, 2)]
    [InlineData(64, KeyDraw.EdgeBytes, 3)]
    [InlineData(4, KeyDraw.SharedPrefix, 4)]
    [InlineData(7, KeyDraw.SharedPrefix, 5)]
    [InlineData(64, KeyDraw.SharedPrefix, 6)]
    [InlineData(4, KeyDraw.Bench, 7)]
    [InlineData(64, KeyDraw.Bench, 8)]
    [InlineData(4, KeyDraw.Random, 9)]
    [InlineData(64, KeyDraw.Random, 10)]
    public void RandomOperations_AgreeWithSortedModel(int nodeCapacity, KeyDraw draw, int seed)
    {
        var random = new Random(seed);
        var index = new KeyIndex(nodeCapacity);
        var model = new SortedDictionary<byte[], KeyRecord>(Ordinal);
        for (int step = 1; step <= 20_000; step++)
        {
            int choice = random.Next(100);
            byte[] key = DrawKey(random, draw);
            if (choice < 55)
            {
                KeyRecord record = index.GetOrAdd(key);
                if (model.TryGetValue(key, out KeyRecord? existing))
                {
                    Assert.Same(existing, record);
                }
                else
                {
                    Assert.Same(key, record.Key);
                    model.Add(key, record);
                }
            }
            else if (choice < 80)
            {
                KeyRecord? found = index.Find((byte[])key.Clone());
                Assert.Same(model.GetValueOrDefault(key), found);
            }
            else if (choice < 99)
            {
                AssertSeek(random, index, model, key, draw);
            }
            else
            {
                RebuildWithout(random, index, model);
            }
            if (step % 1000 == 0)
            {
                AssertSameContents(index, model);
            }
        }
        AssertSameContents(index, model);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(64)]
    public void AscendingAndDescendingLoads_KeepOrder(int nodeCapacity)
    {
        var random = new Random(nodeCapacity);
        byte[][] keys = Enumerable.Range(0, 3000).Select(_ => DrawKey(random, KeyDraw.EdgeBytes)).Distinct(ByteArrayContentComparer.Instance).Order(Ordinal).ToArray();
        foreach (IEnumerable<byte[]> order in new[] { keys, keys.Reverse() })
        {
            var index = new KeyIndex(nodeCapacity);
            var model = new SortedDictionary<byte[], KeyRecord>(Ordinal);
            foreach (byte[] key in order)
            {
                model.Add(key, index.GetOrAdd(key));
            }
            AssertSameContents(index, model);
            foreach (byte[] key in keys)
            {
                Assert.Same(model[key], index.Find((byte[])key.Clone()));
            }
        }
    }

    [Fact]
    public void KeysAroundTheHead_SortOrdinally()
    {
        // Prefixes of each other, zero padding look-alikes, a difference at byte 6, 7, 8 and 15, and 0xFF runs.
        string[] hex =
        [
            "", "00", "0000", "00000000000000", "0000000000000000", "000000000000000000", "01",
            "61", "6100", "610000", "61000000000000", "6100000000000000", "610000000000000000", "6101",
            "6162636465666700", "61626364656667", "6162636465666768", "616263646566676869", "6162636465666769",
            "61626364656668", "6162636465666800", "61626364656667FF", "616263646566FF",
            "6162636465666768696A6B6C6D6E6F70", "6162636465666768696A6B6C6D6E6F71", "6162636465666768696A6B6C6D6E6F",
            "7F", "80", "FE", "FF", "FFFF", "FFFFFFFFFFFFFF", "FFFFFFFFFFFFFFFF", "FFFFFFFFFFFFFFFFFF", "FFFFFFFFFFFFFFFE",
        ];
        byte[][] keys = hex.Select(Convert.FromHexString).ToArray();
        byte[][] sorted = keys.Order(Ordinal).ToArray();
        for (int seed = 1; seed <= 200; seed++)
        {
            var index = new KeyIndex(nodeCapacity: 4);
            byte[][] shuffled = (byte[][])keys.Clone();
            new Random(seed).Shuffle(shuffled);
            foreach (byte[] key in shuffled)
            {
                index.GetOrAdd(key);
            }
            index.CheckStructure();
            Assert.Equal(sorted.Select(Convert.ToHexString), Scan(index.First()).Select(record => Convert.ToHexString(record.Key)));
            foreach (byte[] key in keys)
            {
                Assert.Same(key, index.Find((byte[])key.Clone())!.Key);
                Assert.Same(key, index.GetOrAdd((byte[])key.Clone()).Key);
            }
            Assert.Equal(keys.Length, index.Count);
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(64)]
    public void KeysSharingAPrefix_LeaveItOutOfEveryHead_UntilAKeyOutsideItArrives(int nodeCapacity)
    {
        var random = new Random(nodeCapacity);
        var index = new KeyIndex(nodeCapacity);
        var model = new SortedDictionary<byte[], KeyRecord>(Ordinal);
        for (int step = 0; step < 3000; step++)
        {
            byte[] key = DrawKey(random, KeyDraw.SharedPrefix);
            model.TryAdd(key, index.GetOrAdd(key));
        }
        AssertSameContents(index, model);
        Assert.True(index.RootPrefixLength >= "/registry/".Length, $"root prefix length {index.RootPrefixLength}");
        Assert.Null(index.Find(KeyBytes.FromString("/registry")));
        Assert.Null(index.Find(KeyBytes.FromString("/registry/z")));
        Assert.Equal(model.Values, Scan(index.Seek(KeyBytes.FromString("/"))));
        Assert.Empty(Scan(index.Seek(KeyBytes.FromString("/registry/z"))));
        foreach (string outside in new[] { "/registry", "0", "", "/registry/services/ns9", "\xff" })
        {
            byte[] key = KeyBytes.FromString(outside);
            model.Add(key, index.GetOrAdd(key));
            AssertSameContents(index, model);
            foreach (byte[] existing in model.Keys)
            {
                Assert.Same(model[existing], index.Find((byte[])existing.Clone()));
            }
        }
        Assert.Equal(0, index.RootPrefixLength);
    }

    [Fact]
    public void Heads_OrderKeysLikeBytes()
    {
        var random = new Random(42);
        for (int pair = 0; pair < 200_000; pair++)
        {
            byte[] left = DrawKey(random, KeyDraw.EdgeBytes);
            byte[] right = random.Next(4) == 0 ? [.. left, .. DrawKey(random, KeyDraw.EdgeBytes)] : DrawKey(random, KeyDraw.EdgeBytes);
            int offset = random.Next(left.AsSpan().CommonPrefixLength(right) + 1);
            ulong leftHead = KeyHead.Of(left, offset);
            ulong rightHead = KeyHead.Of(right, offset);
            int order = Math.Sign(left.AsSpan().SequenceCompareTo(right));
            if (leftHead != rightHead)
            {
                Assert.Equal(order, leftHead < rightHead ? -1 : 1);
            }
            else if (KeyHead.IsTruncated(leftHead))
            {
                Assert.True(left.Length > offset + KeyHead.Bytes && right.Length > offset + KeyHead.Bytes);
                Assert.Equal(order, Math.Sign(left.AsSpan(offset + KeyHead.Bytes).SequenceCompareTo(right.AsSpan(offset + KeyHead.Bytes))));
            }
            else
            {
                Assert.Equal(0, order);
            }
        }
    }

    [Fact]
    public void StoreWithManyEdgeKeys_RangesAgreeWithSortedModel()
    {
        var random = new Random(7);
        var store = new MvccStore();
        var model = new SortedDictionary<byte[], byte[]>(Ordinal);
        for (int step = 0; step < 4000; step++)
        {
            byte[] key = DrawKey(random, random.Next(2) == 0 ? KeyDraw.EdgeBytes : KeyDraw.SharedPrefix);
            if (key.Length == 0)
            {
                continue; // etcd refuses an empty key
            }
            if (random.Next(5) == 0)
            {
                store.DeleteRange(new DeleteRangeRequest { Key = (byte[])key.Clone() });
                model.Remove(key);
            }
            else
            {
                byte[] value = [(byte)step, (byte)(step >> 8)];
                Assert.True(store.Put(new PutRequest { Key = (byte[])key.Clone(), Value = value }).IsSuccess);
                model[key] = value;
            }
        }
        AssertRanges(random, store, model);
        Assert.True(store.Compact(new CompactionRequest { Revision = store.Revision }).IsSuccess);
        AssertRanges(random, store, model);
        MvccStore restored = MvccStore.Restore(store.Snapshot()).Value!;
        AssertRanges(random, restored, model);
    }

    private static void AssertRanges(Random random, MvccStore store, SortedDictionary<byte[], byte[]> model)
    {
        for (int range = 0; range < 300; range++)
        {
            byte[] start = DrawKey(random, KeyDraw.EdgeBytes);
            if (start.Length == 0)
            {
                start = [0]; // etcd refuses an empty key; [0] is the smallest key a put can write
            }
            byte[] end = random.Next(4) == 0 ? [0] : DrawKey(random, KeyDraw.EdgeBytes);
            if (end.Length == 0)
            {
                end = [0xFF, 0xFF];
            }
            RangeResponse response = Kit.Ok(store.Range(new RangeRequest { Key = start, RangeEnd = end }));
            bool fromKey = end is [0];
            IEnumerable<KeyValuePair<byte[], byte[]>> expected = model.Where(pair => Ordinal.Compare(pair.Key, start) >= 0 && (fromKey || Ordinal.Compare(pair.Key, end) < 0));
            Assert.Equal(expected.Select(pair => Convert.ToHexString(pair.Key) + "=" + Convert.ToHexString(pair.Value)),
                response.Kvs.Select(kv => Convert.ToHexString(kv.Key) + "=" + Convert.ToHexString(kv.Value)));
        }
    }

    private static void AssertSeek(Random random, KeyIndex index, SortedDictionary<byte[], KeyRecord> model, byte[] probe, KeyDraw draw)
    {
        KeyIndexCursor cursor = index.Seek((byte[])probe.Clone());
        foreach (KeyRecord expected in model.Where(pair => Ordinal.Compare(pair.Key, probe) >= 0).Take(5).Select(pair => pair.Value))
        {
            Assert.True(cursor.TryNext(out KeyRecord record));
            Assert.Same(expected, record);
        }
        // Bounded: every record of [probe, end), then nothing (an end ≤ probe gives nothing).
        byte[] end = DrawKey(random, draw);
        KeyIndexCursor bounded = index.Seek((byte[])probe.Clone(), (byte[])end.Clone());
        List<KeyRecord> expectedRange = model.Where(pair => Ordinal.Compare(pair.Key, probe) >= 0 && Ordinal.Compare(pair.Key, end) < 0).Select(pair => pair.Value).ToList();
        Assert.Equal(expectedRange, Scan(bounded));
    }

    /// <summary>What a compaction does to the index: drops about a third of the records and rebuilds from the rest.</summary>
    private static void RebuildWithout(Random random, KeyIndex index, SortedDictionary<byte[], KeyRecord> model)
    {
        var survivors = new List<KeyRecord>();
        foreach (KeyRecord record in Scan(index.First()))
        {
            if (random.Next(3) == 0)
            {
                model.Remove(record.Key);
            }
            else
            {
                survivors.Add(record);
            }
        }
        index.Rebuild(survivors);
        index.CheckStructure();
    }

    private static void AssertSameContents(KeyIndex index, SortedDictionary<byte[], KeyRecord> model)
    {
        index.CheckStructure();
        Assert.Equal(model.Count, index.Count);
        Assert.Equal(model.Values, Scan(index.First()));
    }

    private static List<KeyRecord> Scan(KeyIndexCursor cursor)
    {
        var records = new List<KeyRecord>();
        while (cursor.TryNext(out KeyRecord record))
        {
            records.Add(record);
        }
        return records;
    }

    private static readonly byte[] EdgeAlphabet = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF];
    private static readonly string[] Kinds = ["pods", "services", "configmaps", "p"];

    private static byte[] DrawKey(Random random, KeyDraw draw)
    {
        switch (draw)
        {
            case KeyDraw.EdgeBytes:
                var edge = new byte[random.Next(19)];
                // Mostly zeros and 0xFF so that keys often share long prefixes and zero runs.
                for (int index = 0; index < edge.Length; index++)
                {
                    edge[index] = random.Next(3) == 0 ? EdgeAlphabet[random.Next(EdgeAlphabet.Length)] : (random.Next(2) == 0 ? (byte)0 : (byte)0xFF);
                }
                return edge;
            case KeyDraw.SharedPrefix:
                return KeyBytes.FromString($"/registry/{Kinds[random.Next(Kinds.Length)]}/ns{random.Next(3)}/{random.Next(3000)}");
            case KeyDraw.Bench:
                return KeyBytes.FromString("kkkkkkkkkkk" + random.Next(100_000).ToString("D5", System.Globalization.CultureInfo.InvariantCulture));
            default:
                var bytes = new byte[random.Next(25)];
                random.NextBytes(bytes);
                return bytes;
        }
    }
}
