namespace Parley.Checker.Search;

/// <summary>
/// One client operation of a history: what was asked, what came back, and the real-time interval in
/// which it ran. Timestamps only need to be ordered (any monotonic unit); the interval is closed, so two
/// operations that share an endpoint count as concurrent.
/// </summary>
/// <param name="ClientId">The client (process) that issued it; each client issues one operation at a time.</param>
/// <param name="Input">The request.</param>
/// <param name="Output">The response, or the model's "unknown" output for an indeterminate operation.</param>
/// <param name="CallTimestamp">When the request was issued.</param>
/// <param name="ReturnTimestamp">When the response arrived; <see cref="NeverReturned"/> for indeterminate operations.</param>
/// <param name="SourceLine">Line of the input file it came from (for explanations); 0 when not from a file.</param>
public readonly record struct Operation<TInput, TOutput>(
    int ClientId,
    TInput Input,
    TOutput Output,
    long CallTimestamp,
    long ReturnTimestamp,
    int SourceLine = 0)
{
    /// <summary>Return timestamp of an operation whose outcome the client never learned (+infinity).</summary>
    public const long NeverReturned = long.MaxValue;

    /// <summary>True when the client saw a response.</summary>
    public bool HasReturned => ReturnTimestamp != NeverReturned;
}
