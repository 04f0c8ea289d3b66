using Parley.Torture;

namespace Parley.Torture.Tests;

/// <summary>
/// The fencing check on constructed store histories: user 1 holds lock/mutex/a (token 2), user 2 waits with
/// lock/mutex/b (token 4); then either user 1 unlocks in time, or it pauses past its lease TTL, its key expires, user
/// 2 takes over, and user 1 writes late with its old token.
/// </summary>
public sealed class LockChecksTests
{
    private const string Prefix = "lock/mutex/";
    private const string Resource = "lock/resource";
    private const string KeyA = Prefix + "a";
    private const string KeyB = Prefix + "b";

    /// <summary>Builds the store from the keyspace at revisions 2, 3, ...: each step sets (value) or deletes (null) keys.</summary>
    private static StoreHistory Store(params (string Key, string? Value)[][] steps)
    {
        var store = new StoreHistory(key => !key.StartsWith("lock/", StringComparison.Ordinal));
        var state = new Dictionary<string, StoredKey>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Length; i++)
        {
            var revision = i + 2L;
            var before = new Dictionary<string, StoredKey>(state, StringComparer.Ordinal);
            foreach (var (key, value) in steps[i])
            {
                if (value is null)
                {
                    state.Remove(key);
                }
                else
                {
                    state[key] = new StoredKey(value, revision, state.TryGetValue(key, out var old) ? old.CreateRevision : revision);
                }
            }
            store.Add(revision, before, new Dictionary<string, StoredKey>(state, StringComparer.Ordinal));
        }
        return store;
    }

    private static FencedWrite Applied(int user, string lockKey, string value, long token, long revision, bool fenced = true) =>
        new(user, lockKey, value, token, fenced, Acknowledged: true, Succeeded: true, revision, 0, 0);

    private static FencedWrite Refused(int user, string lockKey, string value, long token, long revision) =>
        new(user, lockKey, value, token, Fenced: true, Acknowledged: true, Succeeded: false, revision, 0, 0);

    private static LockHold Hold(int user, string lockKey, long grantedAt, long token, bool paused = false) =>
        new(user, LockFlavour.Server, lockKey, grantedAt, token, 0, 0, paused);

    /// <summary>rev 2 a, 3 write t2, 4 b, 5 write t2, 6 unlock a, 7 write t4, 8 unlock b.</summary>
    private static StoreHistory HandOver() => Store(
        [(KeyA, "")], [(Resource, "u1-1 t2")], [(KeyB, "")], [(Resource, "u1-2 t2")], [(KeyA, null)], [(Resource, "u2-1 t4")], [(KeyB, null)]);

    private static readonly LockHold[] HandOverHolds = [Hold(1, KeyA, 2, 2), Hold(2, KeyB, 6, 4)];

    private static readonly FencedWrite[] HandOverWrites =
    [
        Applied(1, KeyA, "u1-1 t2", 2, 3), Applied(1, KeyA, "u1-2 t2", 2, 5), Applied(2, KeyB, "u2-1 t4", 4, 7),
    ];

    [Fact]
    public void HoldersThatWriteOnlyWhileHolding_AreClean() =>
        Assert.Empty(LockChecks.Check(HandOver(), HandOverHolds, HandOverWrites, Prefix, Resource));

    [Fact]
    public void PausedHolder_WhoseFencedWriteWasRefused_IsClean()
    {
        // rev 2 a, 3 write t2, 4 b, 5 a expires (user 1 paused), 6 user 2 writes t4; user 1's late write is refused at 6.
        var store = Store([(KeyA, "")], [(Resource, "u1-1 t2")], [(KeyB, "")], [(KeyA, null)], [(Resource, "u2-1 t4")]);
        FencedWrite[] writes = [Applied(1, KeyA, "u1-1 t2", 2, 3), Applied(2, KeyB, "u2-1 t4", 4, 6), Refused(1, KeyA, "u1-2 t2", 2, 6)];
        Assert.Empty(LockChecks.Check(store, [Hold(1, KeyA, 2, 2, paused: true), Hold(2, KeyB, 5, 4)], writes, Prefix, Resource));
    }

    [Fact]
    public void BrokenLockUser_WritingWithoutTheCompareAfterItsLeaseExpired_IsCaught()
    {
        // As above, but user 1 writes with a plain put: its stale write lands at revision 7, after user 2's.
        var store = Store([(KeyA, "")], [(Resource, "u1-1 t2")], [(KeyB, "")], [(KeyA, null)], [(Resource, "u2-1 t4")], [(Resource, "u1-2 t2")]);
        FencedWrite[] writes =
        [
            Applied(1, KeyA, "u1-1 t2", 2, 3, fenced: false), Applied(2, KeyB, "u2-1 t4", 4, 6), Applied(1, KeyA, "u1-2 t2", 2, 7, fenced: false),
        ];
        var finding = Assert.Single(LockChecks.Check(store, [Hold(1, KeyA, 2, 2, paused: true), Hold(2, KeyB, 5, 4)], writes, Prefix, Resource));
        Assert.Contains("revision 7: user 1 wrote lock/resource=u1-2 t2 under token 2 without the token compare", finding, StringComparison.Ordinal);
        Assert.Contains("token 2 is older than token 4, which wrote at revision 6: two holders' writes interleave", finding, StringComparison.Ordinal);
        Assert.Contains("no lock key with create revision 2 exists then", finding, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteByAWaiter_WhileTheHolderStillHoldsTheLock_IsCaught()
    {
        // User 2 writes with its own token 4 at revision 5 while user 1's older key a still holds the lock.
        var store = Store([(KeyA, "")], [(Resource, "u1-1 t2")], [(KeyB, "")], [(Resource, "u2-1 t4")], [(KeyA, null)]);
        FencedWrite[] writes = [Applied(1, KeyA, "u1-1 t2", 2, 3), Applied(2, KeyB, "u2-1 t4", 4, 5)];
        var findings = LockChecks.Check(store, [Hold(1, KeyA, 2, 2), Hold(2, KeyB, 4, 4)], writes, Prefix, Resource);
        Assert.Contains(findings, finding => finding.Contains("revision 5: user 2 wrote lock/resource=u2-1 t4 under token 4, but the holder then was lock/mutex/a (token 2)", StringComparison.Ordinal));
        Assert.Contains(findings, finding => finding.Contains("lock granted to lock/mutex/b (token 4) at revision 4, while lock/mutex/a (token 2) still held it", StringComparison.Ordinal));
    }

    [Fact]
    public void ValueNoUserSent_AndAWriteAppliedTwice_AreCaught()
    {
        var store = Store([(KeyA, "")], [(Resource, "u1-1 t2")], [(Resource, "u9-9 t2")], [(Resource, "u1-1 t2")]);
        var findings = LockChecks.Check(store, [Hold(1, KeyA, 2, 2)], [Applied(1, KeyA, "u1-1 t2", 2, 3)], Prefix, Resource);
        Assert.Contains(findings, finding => finding.Contains("revision 4: lock/resource=u9-9 t2 was never written by any lock user", StringComparison.Ordinal));
        Assert.Contains(findings, finding => finding.Contains("revision 5: lock/resource=u1-1 t2 again (first at revision 3)", StringComparison.Ordinal));
    }

    [Fact]
    public void AcknowledgedWriteMissing_RefusedWriteApplied_AndRefusalWhileHeld_AreCaught()
    {
        FencedWrite[] writes =
        [
            Applied(1, KeyA, "u1-1 t2", 2, 3), Applied(1, KeyA, "u1-2 t2", 2, 4), // u1-2 is at 5, not 4
            Refused(2, KeyB, "u2-1 t4", 4, 7), // refused, yet applied at 7
            Refused(1, KeyA, "u1-3 t2", 2, 3), // refused at 3, while a (create revision 2) was there
        ];
        var store = Store([(KeyA, "")], [(Resource, "u1-1 t2")], [(KeyB, "")], [(Resource, "u1-2 t2")], [(KeyA, null)], [(Resource, "u2-1 t4")]);
        var findings = LockChecks.Check(store, HandOverHolds, writes, Prefix, Resource);
        Assert.Contains(findings, finding => finding.Contains("acknowledged write lock/resource=u1-2 t2 is not at revision 4", StringComparison.Ordinal));
        Assert.Contains(findings, finding => finding.Contains("u2-1 t4 was refused by its token compare, but the store holds it at revision 7", StringComparison.Ordinal));
        Assert.Contains(findings, finding => finding.Contains("refused at revision 3, but lock/mutex/a had create revision 2 then", StringComparison.Ordinal));
    }

    [Fact]
    public void LockKeysAndTheResource_AreNotIndexedAsRegisterValues()
    {
        var store = HandOver();
        Assert.Empty(store.AllPuts());
        Assert.Empty(store.Duplicates); // the lock keys' empty values repeat; they are not register values
        Assert.Equal(2, store.StateAt(3)[KeyA].CreateRevision);
    }
}
