using Parley.Torture;

namespace Parley.Torture.Tests;

public sealed class WatchChecksTests
{
    private static readonly Dictionary<string, StoredKey> Empty = new(StringComparer.Ordinal);

    /// <summary>rev 2 put a=v1, rev 3 put b=v2 and c=v3 (one txn), rev 4 delete a.</summary>
    private static StoreHistory Store()
    {
        var store = new StoreHistory();
        var at2 = new Dictionary<string, StoredKey>(StringComparer.Ordinal) { ["a"] = new StoredKey("v1", 2, 2) };
        var at3 = new Dictionary<string, StoredKey>(StringComparer.Ordinal) { ["a"] = new StoredKey("v1", 2, 2), ["b"] = new StoredKey("v2", 3, 3), ["c"] = new StoredKey("v3", 3, 3) };
        var at4 = new Dictionary<string, StoredKey>(StringComparer.Ordinal) { ["b"] = new StoredKey("v2", 3, 3), ["c"] = new StoredKey("v3", 3, 3) };
        store.Add(2, Empty, at2);
        store.Add(3, at2, at3);
        store.Add(4, at3, at4);
        return store;
    }

    private static readonly WatchedEvent[] Faithful =
    [
        new(2, "a", "v1", 1, 0), new(3, "b", "v2", 2, 0), new(3, "c", "v3", 2, 0), new(4, "a", null, 3, 1),
    ];

    [Fact]
    public void EveryRevision_OnceInOrder_Atomic_AndCorrect_IsClean() => Assert.Empty(WatchChecks.Check(1, Faithful, Store(), 4));

    [Fact]
    public void MissedRevision_IsReported()
    {
        var finding = Assert.Single(WatchChecks.Check(1, [Faithful[0], Faithful[3]], Store(), 4));
        Assert.Contains("revision 3 never delivered", finding, StringComparison.Ordinal);
    }

    [Fact]
    public void RevisionDeliveredAgainAfterALaterOne_IsDuplicateAndOutOfOrder()
    {
        var findings = WatchChecks.Check(1, [.. Faithful, new(2, "a", "v1", 4, 2)], Store(), 4);
        Assert.Contains(findings, finding => finding.Contains("delivered twice", StringComparison.Ordinal));
        Assert.Contains(findings, finding => finding.Contains("out of order", StringComparison.Ordinal));
    }

    [Fact]
    public void RevisionSplitOverTwoResponses_IsNotAtomic()
    {
        WatchedEvent[] split = [Faithful[0], new(3, "b", "v2", 2, 0), new(3, "c", "v3", 3, 0), new(4, "a", null, 4, 1)];
        Assert.Contains("split over 2 responses", Assert.Single(WatchChecks.Check(1, split, Store(), 4)), StringComparison.Ordinal);
    }

    [Fact]
    public void WrongValue_IsReported()
    {
        WatchedEvent[] wrong = [new(2, "a", "v9", 1, 0), Faithful[1], Faithful[2], Faithful[3]];
        Assert.Contains("delivered a=v9, but it changed a=v1", Assert.Single(WatchChecks.Check(1, wrong, Store(), 4)), StringComparison.Ordinal);
    }
}
