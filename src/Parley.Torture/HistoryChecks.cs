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
