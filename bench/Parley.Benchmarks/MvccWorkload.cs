using System.Globalization;
using Parley.Mvcc;

namespace Parley.Benchmarks;

/// <summary>
/// The keyspace the issue asks to measure: random 16 B keys with 256 B values, drawn from a seeded
/// generator so every run (and every BenchmarkDotNet process) loads the same keys.
/// </summary>
internal static class MvccWorkload
{
    public const int KeyBytes = 16;
    public const int ValueBytes = 256;
    public const int StoreKeysDefault = 1_000_000;
    public const int Seed = 20261122;

    /// <summary>A fresh request with its own key and value arrays, as a deserialized request would have.</summary>
    public static PutRequest NewPut(Random random)
    {
        var key = new byte[KeyBytes];
        var value = new byte[ValueBytes];
        random.NextBytes(key);
        random.NextBytes(value);
        return new PutRequest { Key = key, Value = value };
    }

    /// <summary>A store holding keyCount random keys (one version each); the keys come back sorted.</summary>
    public static MvccStore Load(int keyCount, Random random, out byte[][] sortedKeys)
    {
        var store = new MvccStore();
        sortedKeys = new byte[keyCount][];
        for (int index = 0; index < keyCount; index++)
        {
            PutRequest put = NewPut(random);
            sortedKeys[index] = put.Key;
            Require(store.Put(put).IsSuccess, "put succeeds");
        }
        Array.Sort(sortedKeys, (left, right) => left.AsSpan().SequenceCompareTo(right));
        return store;
    }

    /// <summary>
    /// A store holding keyCount keys of the given shape (one version each, inserted in random order); the keys
    /// come back sorted. Random keys are drawn as <see cref="Load(int, Random, out byte[][])"/> draws them.
    /// </summary>
    public static MvccStore Load(int keyCount, MvccKeyShape shape, Random random, out byte[][] sortedKeys)
    {
        if (shape == MvccKeyShape.Random)
        {
            return Load(keyCount, random, out sortedKeys);
        }
        var store = new MvccStore();
        sortedKeys = new byte[keyCount][];
        for (int index = 0; index < keyCount; index++)
        {
            sortedKeys[index] = SharedPrefixKey(index, keyCount);
        }
        byte[][] insertionOrder = (byte[][])sortedKeys.Clone();
        random.Shuffle(insertionOrder);
        foreach (byte[] key in insertionOrder)
        {
            var value = new byte[ValueBytes];
            random.NextBytes(value);
            Require(store.Put(new PutRequest { Key = key, Value = value }).IsSuccess, "put succeeds");
        }
        return store;
    }

    /// <summary>Key number index of keyCount as `parley bench` spells it: 'k' filler, then the index in as many digits as keyCount needs (at least 4).</summary>
    public static byte[] SharedPrefixKey(int index, int keyCount)
    {
        int digits = Math.Max(4, (keyCount - 1).ToString(CultureInfo.InvariantCulture).Length);
        string text = new string('k', KeyBytes - digits) + index.ToString("D" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        return System.Text.Encoding.ASCII.GetBytes(text);
    }

    /// <summary>Applies every put in order; returns the final revision so the work is observable.</summary>
    public static long PutAll(MvccStore store, PutRequest[] puts)
    {
        foreach (PutRequest put in puts)
        {
            store.Put(put);
        }
        return store.Revision;
    }

    public static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException("benchmark setup: " + message);
        }
    }
}
