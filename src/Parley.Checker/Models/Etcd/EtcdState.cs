using System.Collections.Immutable;
using Parley.Checker.Search;

namespace Parley.Checker.Models.Etcd;

/// <summary>
/// The etcd keyspace as the model sees it: the store's current revision and every live key. Immutable;
/// the hash is kept up to date incrementally so cache look-ups do not walk the keyspace.
/// </summary>
public sealed class EtcdState
{
    /// <summary>An empty store: etcd starts at revision 1.</summary>
    public static EtcdState Empty { get; } = new(1, ImmutableDictionary.Create<string, EtcdKeyValue>(StringComparer.Ordinal), 0);

    private EtcdState(long revision, ImmutableDictionary<string, EtcdKeyValue> keys, ulong keysHash)
    {
        Revision = revision;
        Keys = keys;
        KeysHash = keysHash;
        Hash = HashMixer.Combine((ulong)revision, keysHash);
    }

    /// <summary>The store revision (bumped once by every request that changes something).</summary>
    public long Revision { get; }

    public ImmutableDictionary<string, EtcdKeyValue> Keys { get; }

    public ulong Hash { get; }

    private ulong KeysHash { get; }

    /// <summary>Returns a state with the revision set and the given keys replaced (null value: deleted).</summary>
    public EtcdState With(long revision, IEnumerable<KeyValuePair<string, EtcdKeyValue?>> changes)
    {
        var keys = Keys;
        var keysHash = KeysHash;
        foreach (var (key, entry) in changes)
        {
            if (keys.TryGetValue(key, out var old))
            {
                keysHash ^= EntryHash(key, old);
            }

            if (entry is { } updated)
            {
                keys = keys.SetItem(key, updated);
                keysHash ^= EntryHash(key, updated);
            }
            else
            {
                keys = keys.Remove(key);
            }
        }

        return new EtcdState(revision, keys, keysHash);
    }

    public bool IsEqualTo(EtcdState other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (Hash != other.Hash || Revision != other.Revision || Keys.Count != other.Keys.Count)
        {
            return false;
        }

        foreach (var (key, entry) in Keys)
        {
            if (!other.Keys.TryGetValue(key, out var otherEntry) || entry != otherEntry)
            {
                return false;
            }
        }

        return true;
    }

    private static ulong EntryHash(string key, EtcdKeyValue entry) =>
        HashMixer.Mix(HashMixer.Combine(
            HashMixer.Combine(HashMixer.HashString(key), HashMixer.HashString(entry.Value)),
            HashMixer.Combine((ulong)entry.ModRevision, HashMixer.Combine((ulong)entry.CreateRevision, (ulong)entry.Version))));
}
