using System.Globalization;

namespace Parley.Torture;

/// <summary>
/// Checks of a recorded history against the cluster's own revision history (<see cref="StoreHistory"/>), and the
/// resolution of unknown outcomes from it. Each finding is one line of text.
/// </summary>
public static class HistoryChecks
{
    /// <summary>Client ids from here on are requests whose unknown outcome was resolved (retired to a fresh id each).</summary>
    public const int ResolvedClientIdFirst = 1_000_000;

    /// <summary>Client ids from here on are the store's own changes outside the register keys (one id each).</summary>
    public const int OutsideClientIdFirst = 2_000_000;

    /// <summary>
    /// Every acknowledged write must be in the store at the revision its response reported: an acknowledged put
    /// (or successful txn) is there with its value, an acknowledged delete of an existing key removed it. Later
    /// writes may overwrite it; this revision must still show it.
    /// </summary>
    public static List<string> FindLostWrites(IEnumerable<HistoryOperation> history, StoreHistory store)
    {
        var findings = new List<string>();
        foreach (var operation in history.Where(operation => operation.Outcome == HistoryOutcome.Ok && operation.IsWrite && operation.Resolution is null))
        {
            var revision = operation.Revision ?? 0;
            if (revision > store.Revision)
            {
                findings.Add(Describe(operation) + $": acknowledged at revision {revision}, but the healed cluster is only at revision {store.Revision}");
                continue;
            }
            var changes = store.ChangesAt(revision);
            switch (operation.Op)
            {
                case HistoryOpKind.Put:
                case HistoryOpKind.Txn when operation.Succeeded == true:
                    foreach (var (key, value) in operation.Puts())
                    {
                        if (!changes.Contains((key, value)))
                        {
                            findings.Add(Describe(operation) + $": acknowledged write {key}={value} is not at revision {revision} (that revision holds {Changes(changes)})");
                        }
                    }
                    break;
                case HistoryOpKind.Delete when operation.Deleted > 0:
                    if (!changes.Contains((operation.Key, null)))
                    {
                        findings.Add(Describe(operation) + $": acknowledged delete of {operation.Key} is not at revision {revision} (that revision holds {Changes(changes)})");
                    }
                    break;
            }
        }
        return findings;
    }

    /// <summary>
    /// Nothing may appear that no client asked for: every value in the store was sent by a request for that key;
    /// no request was applied twice; every revision changed something.
    /// </summary>
    public static List<string> FindPhantomWrites(IEnumerable<HistoryOperation> history, StoreHistory store)
    {
        var attempted = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var operation in history)
        {
            foreach (var (key, value) in operation.Puts())
            {
                attempted[value] = key;
            }
        }
        var findings = new List<string>();
        foreach (var (revision, key, value) in store.AllPuts().OrderBy(put => put.Revision))
        {
            if (!attempted.TryGetValue(value, out var attemptedKey))
            {
                findings.Add($"revision {revision}: {key}={value} was never written by any client");
            }
            else if (attemptedKey != key)
            {
                findings.Add($"revision {revision}: {key}={value}, but that value was written to {attemptedKey}");
            }
        }
        foreach (var (value, first, second) in store.Duplicates)
        {
            findings.Add($"value {value} written at revision {first} and again at revision {second}: a request applied twice");
        }
        foreach (var revision in store.EmptyRevisions)
        {
            findings.Add($"revision {revision} changed nothing: revisions must only advance with a change");
        }
        return findings;
    }

    /// <summary>
    /// Resolves writes whose outcome the client never learned, from the store's history: a put or txn whose unique
    /// value is in the store took effect at that revision (some time after its call: it becomes an acknowledged
    /// request returning at <paramref name="endNs"/>, under a fresh client id); one whose value never appeared had
    /// no effect (dropped). This only narrows what the checker may assume, so it cannot hide a violation. Unknown
    /// deletes stay unknown (a delete carries no unique value). Returns the new history and adds partial
    /// transactions to <paramref name="findings"/>.
    /// </summary>
    public static List<HistoryOperation> ResolveUnknowns(IEnumerable<HistoryOperation> history, StoreHistory store, long endNs, List<string> findings)
    {
        var resolved = new List<HistoryOperation>();
        var nextClient = ResolvedClientIdFirst;
        foreach (var operation in history)
        {
            if (operation.Outcome != HistoryOutcome.Unknown || operation.Op is not (HistoryOpKind.Put or HistoryOpKind.Txn))
            {
                resolved.Add(operation);
                continue;
            }
            var places = operation.Puts().Select(put => store.TryFindPut(put.Value, out var key, out var revision) && key == put.Key ? revision : (long?)null).ToList();
            if (places.All(place => place is null))
            {
                resolved.Add(operation with { Outcome = HistoryOutcome.Fail, Resolution = "never applied" });
            }
            else if (places.All(place => place is not null) && places.Distinct().Count() == 1)
            {
                var revision = places[0]!.Value;
                resolved.Add(operation with
                {
                    Client = nextClient++, Outcome = HistoryOutcome.Ok, ReturnNs = endNs, Revision = revision,
                    Succeeded = operation.Op == HistoryOpKind.Txn ? true : null,
                    Resolution = string.Create(CultureInfo.InvariantCulture, $"applied at revision {revision}"),
                });
            }
            else
            {
                findings.Add(Describe(operation) + $": only part of the transaction was applied (revisions {string.Join(", ", places.Select(place => place?.ToString(CultureInfo.InvariantCulture) ?? "none"))})");
                resolved.Add(operation);
            }
        }
        return resolved;
    }

    /// <summary>
    /// The revisions the register clients did not make (lock users' keys and resource, lease expiry), as operations
    /// for the checker: the etcd model counts every revision, so each such revision becomes a put or delete of its key
    /// at exactly that revision, at some time during the run (called at 0, returned at <paramref name="endNs"/>). The
    /// revision pins where it goes; it touches no register key, so it cannot explain away a register anomaly. A
    /// revision that changed several such keys at once (no lock user request does) is reported in
    /// <paramref name="findings"/>.
    /// </summary>
    public static List<HistoryOperation> OutsideRevisions(StoreHistory store, Func<string, bool> isOutside, long endNs, List<string> findings)
    {
        var operations = new List<HistoryOperation>();
        var client = OutsideClientIdFirst;
        for (var revision = 2L; revision <= store.Revision; revision++)
        {
            var outside = store.ChangesAt(revision).Where(change => isOutside(change.Key)).ToList();
            if (outside.Count == 0)
            {
                continue;
            }
            if (outside.Count > 1)
            {
                findings.Add(string.Create(CultureInfo.InvariantCulture, $"revision {revision} changed {Changes(outside)} at once; no request the clients sent does that"));
                continue;
            }
            var (key, value) = outside[0];
            operations.Add(new HistoryOperation
            {
                Client = client++, Op = value is null ? HistoryOpKind.Delete : HistoryOpKind.Put, Key = key, Value = value,
                CallNs = 0, ReturnNs = endNs, Revision = revision, Deleted = value is null ? 1 : null,
                Resolution = "the store's own change outside the register keys",
            });
        }
        return operations;
    }

    public static string Describe(HistoryOperation operation)
    {
        var what = operation.Op switch
        {
            HistoryOpKind.Get => $"get {operation.Key}",
            HistoryOpKind.Put => $"put {operation.Key}={operation.Value}",
            HistoryOpKind.Delete => $"delete {operation.Key}",
            _ => $"txn if {operation.Key}.{operation.CompareTarget}=={(operation.CompareTarget == "value" ? operation.CompareValue : operation.CompareRevision.ToString(CultureInfo.InvariantCulture))} then {string.Join(", ", operation.SuccessPuts.Select(put => $"put {put.Key}={put.Value}"))}",
        };
        return string.Create(CultureInfo.InvariantCulture, $"client {operation.Client} ({what}, called at {operation.CallNs} ns)");
    }

    private static string Changes(IReadOnlyList<(string Key, string? Value)> changes) =>
        changes.Count == 0 ? "nothing" : string.Join(", ", changes.Select(change => change.Value is null ? $"delete {change.Key}" : $"{change.Key}={change.Value}"));
}
