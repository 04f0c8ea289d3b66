namespace Parley.Checker.Search;

/// <summary>A model-independent view of one operation, for explanations and timelines.</summary>
public sealed record OperationSummary(int ClientId, long CallTimestamp, long ReturnTimestamp, string Description, int SourceLine)
{
    /// <summary>True when the client saw a response.</summary>
    public bool HasReturned => ReturnTimestamp != Operation<int, int>.NeverReturned;
}
