namespace Parley.Torture;

/// <summary>
/// etcd's watch guarantees, checked against the store's revision history: ordered (revisions never go back), unique
/// (no revision delivered twice), reliable (no revision 2..R missed), atomic (a revision's events arrive in one
/// response), correct (a revision's events are exactly its changes).
/// </summary>
internal static class WatchChecks
{
    public static List<string> Check(int watcherId, IReadOnlyList<WatchedEvent> events, StoreHistory store, long revision)
    {
        var findings = new List<string>();
        var byRevision = new Dictionary<long, List<WatchedEvent>>();
        long last = 0;
        foreach (var watched in events)
        {
            if (watched.Revision != last)
            {
                if (watched.Revision < last)
                {
                    findings.Add($"watcher {watcherId}: revision {watched.Revision} arrived after revision {last} (out of order)");
                }
                if (byRevision.ContainsKey(watched.Revision))
                {
                    findings.Add($"watcher {watcherId}: revision {watched.Revision} delivered twice");
                }
                last = watched.Revision;
            }
            if (!byRevision.TryGetValue(watched.Revision, out var list))
            {
                byRevision[watched.Revision] = list = [];
            }
            list.Add(watched);
        }
        for (var at = 2L; at <= revision; at++)
        {
            if (!byRevision.TryGetValue(at, out var list))
            {
                findings.Add($"watcher {watcherId}: revision {at} never delivered");
                continue;
            }
            if (list.Select(watched => watched.Response).Distinct().Count() > 1)
            {
                findings.Add($"watcher {watcherId}: revision {at} split over {list.Select(watched => watched.Response).Distinct().Count()} responses (not atomic)");
            }
            var expected = store.ChangesAt(at).Select(change => (change.Key, change.Value)).Order().ToList();
            var received = list.Select(watched => (watched.Key, watched.Value)).Order().ToList();
            if (!expected.SequenceEqual(received))
            {
                findings.Add($"watcher {watcherId}: revision {at} delivered {Describe(received)}, but it changed {Describe(expected)}");
            }
        }
        foreach (var extra in byRevision.Keys.Where(at => at < 2 || at > revision))
        {
            findings.Add($"watcher {watcherId}: revision {extra} delivered, outside 2..{revision}");
        }
        return findings;
    }

    private static string Describe(List<(string Key, string? Value)> changes) =>
        changes.Count == 0 ? "nothing" : string.Join(", ", changes.Select(change => change.Value is null ? $"delete {change.Key}" : $"{change.Key}={change.Value}"));
}
