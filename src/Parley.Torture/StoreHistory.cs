using Etcdserverpb;

namespace Parley.Torture;

/// <summary>
/// The cluster's own record of what happened: for every revision, the keys it put (with values) and deleted, read
/// back after healing with a range at each revision. Used to check that no acknowledged write was lost, that
/// nothing appeared that no client wrote, and to resolve requests whose outcome the client never learned.
/// </summary>
public sealed class StoreHistory
{
    private readonly Dictionary<long, List<(string Key, string? Value)>> _changes = [];
    private readonly Dictionary<string, (string Key, long Revision)> _putsByValue = new(StringComparer.Ordinal);

    public long Revision { get; private set; } = 1;

    /// <summary>Values written at more than one revision (a request applied twice).</summary>
    public List<(string Value, long FirstRevision, long SecondRevision)> Duplicates { get; } = [];

    /// <summary>Revisions (2..current) at which nothing changed: revisions must be dense.</summary>
    public List<long> EmptyRevisions { get; } = [];

    public IReadOnlyList<(string Key, string? Value)> ChangesAt(long revision) => _changes.GetValueOrDefault(revision) ?? [];

    public bool TryFindPut(string value, out string key, out long revision)
    {
        var found = _putsByValue.TryGetValue(value, out var put);
        (key, revision) = put;
        return found;
    }

    public IEnumerable<(long Revision, string Key, string Value)> AllPuts() =>
        _changes.SelectMany(pair => pair.Value.Where(change => change.Value is not null).Select(change => (pair.Key, change.Key, change.Value!)));

    /// <summary>Adds the changes of one revision, given the keyspace just before and at it.</summary>
    public void Add(long revision, IReadOnlyDictionary<string, (string Value, long ModRevision)> before, IReadOnlyDictionary<string, (string Value, long ModRevision)> at)
    {
        var changes = new List<(string Key, string? Value)>();
        foreach (var (key, (value, modRevision)) in at)
        {
            if (modRevision == revision)
            {
                changes.Add((key, value));
                if (_putsByValue.TryGetValue(value, out var earlier))
                {
                    Duplicates.Add((value, earlier.Revision, revision));
                }
                else
                {
                    _putsByValue[value] = (key, revision);
                }
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
        Revision = Math.Max(Revision, revision);
    }

    /// <summary>Reads revisions 2..<paramref name="revision"/> from one member (serializable ranges: the member has applied them).</summary>
    public static async Task<StoreHistory> ReadAsync(TortureCluster cluster, int member, long revision, CancellationToken cancellation)
    {
        var history = new StoreHistory();
        IReadOnlyDictionary<string, (string Value, long ModRevision)> before = new Dictionary<string, (string, long)>(StringComparer.Ordinal);
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

    private static Dictionary<string, (string Value, long ModRevision)> ToState(RangeResponse response) =>
        response.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), kv => (kv.Value.ToStringUtf8(), kv.ModRevision), StringComparer.Ordinal);
}
