using Parley.Torture;

namespace Parley.Torture.Tests;

public sealed class HistoryChecksTests
{
    private static readonly Dictionary<string, StoredKey> Empty = new(StringComparer.Ordinal);

    /// <summary>The store: rev 2 put a=v1, rev 3 put b=v2, rev 4 delete a.</summary>
    private static StoreHistory Store()
    {
        var store = new StoreHistory();
        var at2 = new Dictionary<string, StoredKey>(StringComparer.Ordinal) { ["a"] = new StoredKey("v1", 2, 2) };
        var at3 = new Dictionary<string, StoredKey>(StringComparer.Ordinal) { ["a"] = new StoredKey("v1", 2, 2), ["b"] = new StoredKey("v2", 3, 3) };
        var at4 = new Dictionary<string, StoredKey>(StringComparer.Ordinal) { ["b"] = new StoredKey("v2", 3, 3) };
        store.Add(2, Empty, at2);
        store.Add(3, at2, at3);
        store.Add(4, at3, at4);
        return store;
    }

    private static HistoryOperation Put(int client, string key, string value, long? revision, HistoryOutcome outcome = HistoryOutcome.Ok) => new()
    {
        Client = client, Op = HistoryOpKind.Put, Key = key, Value = value, CallNs = client * 10, ReturnNs = outcome == HistoryOutcome.Ok ? client * 10 + 5 : null,
        Revision = revision, Outcome = outcome,
    };

    [Fact]
    public void AcknowledgedWrites_ThatTheStoreHolds_AreNotReported()
    {
        HistoryOperation[] history =
        [
            Put(1, "a", "v1", 2), Put(2, "b", "v2", 3),
            new() { Client = 3, Op = HistoryOpKind.Delete, Key = "a", CallNs = 40, ReturnNs = 45, Revision = 4, Deleted = 1 },
        ];
        Assert.Empty(HistoryChecks.FindLostWrites(history, Store()));
        Assert.Empty(HistoryChecks.FindPhantomWrites(history, Store()));
    }

    [Fact]
    public void AcknowledgedPut_MissingAtItsRevision_IsALostWrite()
    {
        var findings = HistoryChecks.FindLostWrites([Put(1, "a", "v1", 2), Put(4, "c", "v9", 3)], Store());
        var finding = Assert.Single(findings);
        Assert.Contains("c=v9 is not at revision 3", finding, StringComparison.Ordinal);
    }

    [Fact]
    public void AcknowledgedWrite_BeyondTheHealedRevision_IsALostWrite()
    {
        var finding = Assert.Single(HistoryChecks.FindLostWrites([Put(1, "a", "v7", 9)], Store()));
        Assert.Contains("only at revision 4", finding, StringComparison.Ordinal);
    }

    [Fact]
    public void AcknowledgedDelete_NotInTheStore_IsALostWrite()
    {
        var delete = new HistoryOperation { Client = 3, Op = HistoryOpKind.Delete, Key = "b", CallNs = 40, ReturnNs = 45, Revision = 4, Deleted = 1 };
        Assert.Single(HistoryChecks.FindLostWrites([delete], Store()));
    }

    [Fact]
    public void ValueNoClientWrote_IsAPhantom()
    {
        var findings = HistoryChecks.FindPhantomWrites([Put(1, "a", "v1", 2)], Store());
        var finding = Assert.Single(findings);
        Assert.Contains("b=v2 was never written", finding, StringComparison.Ordinal);
    }

    [Fact]
    public void ValueAppliedTwice_AndEmptyRevision_AreReported()
    {
        var store = new StoreHistory();
        var at2 = new Dictionary<string, StoredKey>(StringComparer.Ordinal) { ["a"] = new StoredKey("v1", 2, 2) };
        var at3 = new Dictionary<string, StoredKey>(StringComparer.Ordinal) { ["a"] = new StoredKey("v1", 3, 3) };
        store.Add(2, Empty, at2);
        store.Add(3, at2, at3);
        store.Add(4, at3, at3);
        var findings = HistoryChecks.FindPhantomWrites([Put(1, "a", "v1", 2)], store);
        Assert.Contains(findings, finding => finding.Contains("applied twice", StringComparison.Ordinal));
        Assert.Contains(findings, finding => finding.Contains("revision 4 changed nothing", StringComparison.Ordinal));
    }

    [Fact]
    public void UnknownPut_FoundInTheStore_BecomesAcknowledgedAtThatRevision_UnderAFreshClient()
    {
        var findings = new List<string>();
        var resolved = HistoryChecks.ResolveUnknowns([Put(2, "b", "v2", null, HistoryOutcome.Unknown), Put(5, "c", "lost", null, HistoryOutcome.Unknown)], Store(), 1_000, findings);
        Assert.Empty(findings);
        var landed = resolved[0];
        Assert.Equal(HistoryOutcome.Ok, landed.Outcome);
        Assert.Equal(3, landed.Revision);
        Assert.Equal(1_000, landed.ReturnNs);
        Assert.True(landed.Client >= HistoryChecks.ResolvedClientIdFirst);
        Assert.Equal(HistoryOutcome.Fail, resolved[1].Outcome);
    }

    [Fact]
    public void UnknownTxn_ThatLandedOnlyInPart_IsAnAtomicityFinding()
    {
        var txn = new HistoryOperation
        {
            Client = 1, Op = HistoryOpKind.Txn, Key = "a", CallNs = 1, Outcome = HistoryOutcome.Unknown, CompareTarget = "mod_revision",
            SuccessPuts = [("a", "v1"), ("z", "never")],
        };
        var findings = new List<string>();
        HistoryChecks.ResolveUnknowns([txn], Store(), 1_000, findings);
        Assert.Contains("only part of the transaction", Assert.Single(findings), StringComparison.Ordinal);
    }

    [Fact]
    public void WrittenHistory_IsReadableByTheChecker()
    {
        HistoryOperation[] history =
        [
            Put(1, "a", "v1", 2),
            new() { Client = 2, Op = HistoryOpKind.Get, Key = "a", Value = "v1", ModRevision = 2, Revision = 2, CallNs = 30, ReturnNs = 35 },
            new() { Client = 2, Op = HistoryOpKind.Get, Key = "a", Value = null, ModRevision = 0, Revision = 2, CallNs = 40, ReturnNs = 45 },
        ];
        using var stream = new MemoryStream();
        HistoryWriter.Write(stream, history);
        stream.Position = 0;
        using var reader = new StreamReader(stream);
        var result = Checker.Formats.HistoryFileChecker.Check(reader, "test", Checker.Formats.HistoryFormat.Parley, new Checker.Search.CheckOptions());
        Assert.Equal(Checker.Search.Verdict.NotLinearizable, result.Verdict); // the second read misses a write that had returned
    }
}
