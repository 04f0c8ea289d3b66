namespace Parley.Torture;

/// <summary>How a lock user takes the lock: etcd's server-side v3lockpb.Lock, or clientv3's Mutex recipe run by the client.</summary>
public enum LockFlavour
{
    Server,
    Recipe,
}

/// <summary>
/// One acquisition as the lock user saw it: the lock key (<c>name/&lt;lease hex&gt;</c>), the revision of the response
/// that granted it, and the fencing token (the key's create revision). <see cref="Paused"/>: the holder then stopped
/// keeping its lease alive for longer than the TTL before writing (a stopped process, a long GC pause).
/// </summary>
public sealed record LockHold(int User, LockFlavour Flavour, string LockKey, long GrantedAtRevision, long Token, long CallNs, long ReturnNs, bool Paused);

/// <summary>
/// One write to the guarded resource: the value (unique, carrying its token), whether the holder's Txn compared the
/// token (a broken user does not), and what came back. <see cref="Succeeded"/> null with <see cref="Acknowledged"/>
/// false: the outcome is unknown.
/// </summary>
public sealed record FencedWrite(int User, string LockKey, string Value, long Token, bool Fenced, bool Acknowledged, bool? Succeeded, long Revision, long CallNs, long ReturnNs);

/// <summary>What a run's lock users did: acquisitions, holders that paused past the TTL, resource writes by outcome.</summary>
public sealed record LockSummary(int Holds, int PausedHolds, int WritesApplied, int WritesRefused, int WritesUnknown)
{
    internal static LockSummary Of(IReadOnlyCollection<LockUser> users) => new(
        users.Sum(user => user.Holds.Count),
        users.Sum(user => user.Holds.Count(hold => hold.Paused)),
        users.Sum(user => user.Writes.Count(write => write.Succeeded == true)),
        users.Sum(user => user.Writes.Count(write => write.Succeeded == false)),
        users.Sum(user => user.Writes.Count(write => !write.Acknowledged)));

    public static readonly LockSummary None = new(0, 0, 0, 0, 0);

    public static LockSummary Sum(IEnumerable<LockSummary> summaries) => summaries.Aggregate(None, (total, one) => new(
        total.Holds + one.Holds, total.PausedHolds + one.PausedHolds, total.WritesApplied + one.WritesApplied,
        total.WritesRefused + one.WritesRefused, total.WritesUnknown + one.WritesUnknown));
}
