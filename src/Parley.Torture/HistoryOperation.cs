namespace Parley.Torture;

/// <summary>
/// One client request as recorded for the checker (docs/history-format.md): what was asked, when (nanoseconds
/// since the run started, read immediately before sending and after the response), and what came back. A request
/// whose outcome the client never learned is <see cref="HistoryOutcome.Unknown"/>.
/// </summary>
public sealed record HistoryOperation
{
    public required int Client { get; init; }

    public required HistoryOpKind Op { get; init; }

    /// <summary>get, put, delete: the key; txn: the compared key.</summary>
    public required string Key { get; init; }

    /// <summary>put: the value written; get: the value read (null = absent).</summary>
    public string? Value { get; init; }

    public required long CallNs { get; init; }

    public long? ReturnNs { get; init; }

    public HistoryOutcome Outcome { get; init; } = HistoryOutcome.Ok;

    public long? Revision { get; init; }

    public long? ModRevision { get; init; }

    public long? Deleted { get; init; }

    public bool? Succeeded { get; init; }

    /// <summary>txn: the one compare ("mod_revision" or "value", always "equal").</summary>
    public string? CompareTarget { get; init; }

    public long CompareRevision { get; init; }

    public string? CompareValue { get; init; }

    /// <summary>txn: the puts of the success branch (key, value); the failure branch is empty.</summary>
    public IReadOnlyList<(string Key, string Value)> SuccessPuts { get; init; } = [];

    /// <summary>The member the request went to, and the error text of an unknown outcome.</summary>
    public int Member { get; init; }

    public string? Error { get; init; }

    /// <summary>Set when an unknown outcome was resolved from the cluster's own revision history.</summary>
    public string? Resolution { get; init; }

    public bool IsWrite => Op != HistoryOpKind.Get;

    /// <summary>The (key, value) pairs this request writes if it takes effect (unique values).</summary>
    public IEnumerable<(string Key, string Value)> Puts() => Op switch
    {
        HistoryOpKind.Put => [(Key, Value!)],
        HistoryOpKind.Txn => SuccessPuts,
        _ => [],
    };
}

public enum HistoryOpKind
{
    Get,
    Put,
    Delete,
    Txn,
}

public enum HistoryOutcome
{
    Ok,
    Unknown,
    /// <summary>Known to have had no effect (an unknown write whose value never appeared in the store).</summary>
    Fail,
}
