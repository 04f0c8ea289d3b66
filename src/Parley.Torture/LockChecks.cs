using System.Globalization;

namespace Parley.Torture;

/// <summary>
/// Mutual exclusion with fencing tokens, judged from the store's own revision history (<see cref="StoreHistory"/>):
/// <list type="bullet">
/// <item>every write of the guarded resource was made under the token of the lock's holder at that revision: a lock
/// key with that create revision exists then and is the oldest under the lock's prefix;</item>
/// <item>tokens never go back along the history: no write carries a token older than one already seen (two holders'
/// writes never interleave);</item>
/// <item>every value of the resource was sent by a lock user, once; an acknowledged write is at its revision, a write
/// the fence refused is nowhere, and it was refused only when its token no longer held;</item>
/// <item>the lock was granted only to the oldest key: at the revision of a grant, the holder's key (if still there)
/// is the oldest under the prefix.</item>
/// </list>
/// </summary>
public static class LockChecks
{
    public static List<string> Check(StoreHistory store, IReadOnlyList<LockHold> holds, IReadOnlyList<FencedWrite> writes, string lockPrefix, string resourceKey)
    {
        var findings = new List<string>();
        var applied = CheckResourceHistory(store, writes, lockPrefix, resourceKey, findings);
        CheckWriteOutcomes(store, writes, applied, resourceKey, findings);
        CheckGrants(store, holds, lockPrefix, findings);
        return findings;
    }

    /// <summary>Walks the resource's writes in revision order; returns each value with the revision it was applied at.</summary>
    private static Dictionary<string, long> CheckResourceHistory(StoreHistory store, IReadOnlyList<FencedWrite> writes, string lockPrefix, string resourceKey, List<string> findings)
    {
        var sent = new Dictionary<string, FencedWrite>(StringComparer.Ordinal);
        foreach (var write in writes)
        {
            sent[write.Value] = write;
        }
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        long newestToken = 0;
        long newestAt = 0;
        for (var revision = 2L; revision <= store.Revision; revision++)
        {
            foreach (var (key, value) in store.ChangesAt(revision))
            {
                if (key != resourceKey || value is null)
                {
                    continue;
                }
                if (seen.TryGetValue(value, out var earlier))
                {
                    findings.Add(Text($"revision {revision}: {resourceKey}={value} again (first at revision {earlier}): a write applied twice"));
                    continue;
                }
                seen[value] = revision;
                if (!sent.TryGetValue(value, out var write))
                {
                    findings.Add(Text($"revision {revision}: {resourceKey}={value} was never written by any lock user"));
                    continue;
                }
                var problems = new List<string>();
                if (write.Token < newestToken)
                {
                    problems.Add(Text($"token {write.Token} is older than token {newestToken}, which wrote at revision {newestAt}: two holders' writes interleave"));
                }
                var (holder, holderToken) = Holder(store.StateAt(revision), lockPrefix);
                if (!store.StateAt(revision).Any(pair => pair.Key.StartsWith(lockPrefix, StringComparison.Ordinal) && pair.Value.CreateRevision == write.Token))
                {
                    problems.Add(Text($"no lock key with create revision {write.Token} exists then (lease expired or unlocked): the writer had lost the lock"));
                }
                else if (holderToken != write.Token)
                {
                    problems.Add(Text($"the holder then was {holder} (token {holderToken})"));
                }
                if (problems.Count > 0)
                {
                    findings.Add(Text($"revision {revision}: user {write.User} wrote {resourceKey}={value} under token {write.Token}{(write.Fenced ? "" : " without the token compare")}, but ") + string.Join("; ", problems));
                }
                if (write.Token > newestToken)
                {
                    (newestToken, newestAt) = (write.Token, revision);
                }
            }
        }
        return seen;
    }

    private static void CheckWriteOutcomes(StoreHistory store, IReadOnlyList<FencedWrite> writes, Dictionary<string, long> applied, string resourceKey, List<string> findings)
    {
        foreach (var write in writes.Where(write => write.Acknowledged))
        {
            if (write.Succeeded == true && !store.ChangesAt(write.Revision).Contains((resourceKey, write.Value)))
            {
                findings.Add(Text($"user {write.User}: acknowledged write {resourceKey}={write.Value} is not at revision {write.Revision}"));
            }
            if (write.Succeeded == false)
            {
                if (applied.TryGetValue(write.Value, out var at))
                {
                    findings.Add(Text($"user {write.User}: write {resourceKey}={write.Value} was refused by its token compare, but the store holds it at revision {at}"));
                }
                if (write.Fenced && store.StateAt(write.Revision).TryGetValue(write.LockKey, out var held) && held.CreateRevision == write.Token)
                {
                    findings.Add(Text($"user {write.User}: write under token {write.Token} refused at revision {write.Revision}, but {write.LockKey} had create revision {write.Token} then (the compare should have held)"));
                }
            }
        }
    }

    private static void CheckGrants(StoreHistory store, IReadOnlyList<LockHold> holds, string lockPrefix, List<string> findings)
    {
        foreach (var hold in holds)
        {
            if (hold.GrantedAtRevision > store.Revision)
            {
                findings.Add(Text($"user {hold.User}: lock granted at revision {hold.GrantedAtRevision}, beyond the healed cluster's revision {store.Revision}"));
                continue;
            }
            var state = store.StateAt(hold.GrantedAtRevision);
            if (!state.TryGetValue(hold.LockKey, out var mine))
            {
                continue; // gone already at the grant (expired while the answer travelled): its writes will be refused
            }
            if (mine.CreateRevision != hold.Token)
            {
                findings.Add(Text($"user {hold.User}: token {hold.Token} read for {hold.LockKey}, but its create revision at revision {hold.GrantedAtRevision} is {mine.CreateRevision}"));
            }
            var (holder, holderToken) = Holder(state, lockPrefix);
            if (holderToken != mine.CreateRevision)
            {
                findings.Add(Text($"user {hold.User} ({hold.Flavour}): lock granted to {hold.LockKey} (token {mine.CreateRevision}) at revision {hold.GrantedAtRevision}, while {holder} (token {holderToken}) still held it"));
            }
        }
    }

    /// <summary>The lock's holder in a keyspace: the key under the prefix with the smallest create revision.</summary>
    private static (string Key, long Token) Holder(IReadOnlyDictionary<string, StoredKey> state, string lockPrefix)
    {
        var holder = state.Where(pair => pair.Key.StartsWith(lockPrefix, StringComparison.Ordinal)).OrderBy(pair => pair.Value.CreateRevision).FirstOrDefault();
        return holder.Key is null ? ("nobody", 0) : (holder.Key, holder.Value.CreateRevision);
    }

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
