using Etcdserverpb;

namespace Parley.Torture;

/// <summary>
/// The cluster's own record of what happened: for every revision, the whole keyspace (value, mod and create revision
/// of each key) and what changed, read back after healing with a range at each revision. Used to check that no
/// acknowledged write was lost, that nothing appeared that no client wrote, to resolve requests whose outcome the
/// client never learned, and to see who held a lock at each revision. Values are indexed (and must be unique) for
/// keys that <c>uniqueValues</c> accepts: the register workload's, not the lock area's.
/// </summary>
public sealed class StoreHistory
{
    private readonly Dictionary<long, List<(string Key, string? Value)>> _changes = [];
    private readonly Dictionary<long, IReadOnlyDictionary<string, StoredKey>> _states = [];
    private readonly Dictionary<string, (string Key, long Revision)> _putsByValue = new(StringComparer.Ordinal);
    private readonly Func<string, bool> _uniqueValues;

    public StoreHistory(Func<string, bool>? uniqueValues = null) => _uniqueValues = uniqueValues ?? (_ => true);

    public long Revision { get; private set; } = 1;

    /// <summary>Values written at more than one revision (a request applied twice).</summary>
    public List<(string Value, long FirstRevision, long SecondRevision)> Duplicates { get; } = [];

    /// <summary>Revisions (2..current) at which nothing changed: revisions must be dense.</summary>
    public List<long> EmptyRevisions { get; } = [];

    public IReadOnlyList<(string Key, string? Value)> ChangesAt(long revision) => _changes.GetValueOrDefault(revision) ?? [];

    /// <summary>The keyspace as it was at a revision (empty before revision 2).</summary>
    public IReadOnlyDictionary<string, StoredKey> StateAt(long revision) =>
        _states.GetValueOrDefault(revision) ?? new Dictionary<string, StoredKey>(StringComparer.Ordinal);

    public bool TryFindPut(string value, out string key, out long revision)
    {
        var found = _putsByValue.TryGetValue(value, out var put);
        (key, revision) = put;
        return found;
    }

    /// <summary>Every put of a key with unique values: (revision, key, value).</summary>
    public IEnumerable<(long Revision, string Key, string Value)> AllPuts() =>
        _changes.SelectMany(pair => pair.Value.Where(change => change.Value is not null && _uniqueValues(change.Key)).Select(change => (pair.Key, change.Key, change.Value!)));

    /// <summary>Adds one revision, given the keyspace just before and at it.</summary>
    public void Add(long revision, IReadOnlyDictionary<string, StoredKey> before, IReadOnlyDictionary<string, StoredKey> at)
    {
        var changes = new List<(string Key, string? Value)>();
        foreach (var (key, stored) in at)
        {
            if (stored.ModRevision != revision)
            {
                continue;
            }
            changes.Add((key, stored.Value));
            if (!_uniqueValues(key))
            {
                continue;
            }
            if (_putsByValue.TryGetValue(stored.Value, out var earlier))
            {
                Duplicates.Add((stored.Value, earlier.Revision, revision));
            }
            else
            {
                _putsByValue[stored.Value] = (key, revision);
            }
        }
        foreach (var key in before.Keys)
        {
            if (!at.ContainsKey(key))
            {
                changes.Add((key, null));
            }
        }
        if (changes.Count == 0)
        {
            EmptyRevisions.Add(revision);
        }
        _changes[revision] = changes;
        _states[revision] = at;
        Revision = Math.Max(Revision, revision);
    }

    /// <summary>Reads revisions 2..<paramref name="revision"/> from one member (serializable ranges: the member has applied them).</summary>
    public static async Task<StoreHistory> ReadAsync(TortureCluster cluster, int member, long revision, Func<string, bool>? uniqueValues, CancellationToken cancellation)
    {
        var history = new StoreHistory(uniqueValues);
        IReadOnlyDictionary<string, StoredKey> before = new Dictionary<string, StoredKey>(StringComparer.Ordinal);
        for (var at = 2L; at <= revision; at++)
        {
            cancellation.ThrowIfCancellationRequested();
            var response = await cluster.RangeAllAsync(member, at, serializable: true).ConfigureAwait(false);
            var state = ToState(response);
            history.Add(at, before, state);
            before = state;
        }
        return history;
    }

    private static Dictionary<string, StoredKey> ToState(RangeResponse response) =>
        response.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), kv => new StoredKey(kv.Value.ToStringUtf8(), kv.ModRevision, kv.CreateRevision), StringComparer.Ordinal);
}

/// <summary>One key as the store held it at some revision.</summary>
public readonly record struct StoredKey(string Value, long ModRevision, long CreateRevision);
